"""Database triggers installed by migrations (the access log's append-only guard, the contacts'
summaries, today's counts per class): running their SQL and listing what is present, on SQLite
and PostgreSQL alike."""


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
