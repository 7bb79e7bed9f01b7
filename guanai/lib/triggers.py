"""Database triggers installed by migrations (the access log's append-only guard, the contacts'
summary per child, today's counts per class, the stored trend points): running their SQL and
listing what is present, on SQLite and PostgreSQL alike."""


def run(schema_editor, statements: list[str]) -> None:
    """Execute trigger SQL as written (no parameters: `%` stays `%`)."""
    for sql in statements:
        schema_editor.execute(sql, params=None)


def names(connection, table: str) -> set[str]:
    """The names of the triggers present on `table` (PostgreSQL: not its internal ones)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [table],
            )
        return {name for (name,) in cursor.fetchall()}


def install(schema_editor, by_vendor: dict[str, tuple[list[str], list[str]]], *then: str) -> None:
    """Create this engine's triggers (`by_vendor`: {vendor: (create, drop) statements}), then
    run `then` (clearing what they keep)."""
    create, _ = by_vendor.get(schema_editor.connection.vendor, ([], []))
    run(schema_editor, [*create, *then])


def drop(schema_editor, by_vendor: dict[str, tuple[list[str], list[str]]]) -> None:
    """Drop this engine's triggers (`by_vendor` as for `install`)."""
    _, statements = by_vendor.get(schema_editor.connection.vendor, ([], []))
    run(schema_editor, statements)
