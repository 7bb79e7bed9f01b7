"""`contacts.LastContact` kept by the database: triggers on the contacts table.

Every way a contact is written — the services, the API, offline sync, imports, the demo's
`bulk_create`, a correction that moves `at` or `kind`, a deletion, the cascade of a card's
deletion, anonymisation, raw SQL — goes through the table, so the triggers see it; no Python
write path can forget the summary. Each row of `contacts_lastcontact` is `MAX(at)` of one
child's contacts of one kind:

- insert: an upsert keeping the later of the stored and the new time (and its local day);
- delete: the pair's row is recomputed from the remaining contacts (one index seek on
  `(child, kind, at)`; no row when none is left);
- update of `child_id`, `kind` or `at`: the old pair and the new pair are recomputed.

Cost on a write: one upsert (insert) or one delete plus one indexed `MAX` (delete, correction)
per contact row, in the writer's transaction. A later migration that makes SQLite rebuild the
contacts table (an AlterField on Contact) drops the triggers with the old table: it must call
`install_triggers` again (`test_last_contact.py` fails until it does).
"""

from guanai.lib import triggers

CONTACTS = "contacts_contact"
LAST = "contacts_lastcontact"
# The local day (Asia/Shanghai, fixed UTC+8 since 1991) of a stored timestamp, as days since
# 1970-01-01: `contacts.due` uses the same expressions.
DAY = {
    "sqlite": "((CAST(strftime('%s', {}) AS INTEGER) + 28800) / 86400)",
    "postgresql": "(CAST({} AT TIME ZONE 'Asia/Shanghai' AS date) - DATE '1970-01-01')",
}


def _recompute(vendor: str, r: str) -> str:
    """Recompute one (child, kind) pair from the contacts; `r` is OLD or NEW."""
    return (
        f"DELETE FROM {LAST} WHERE child_id = {r}.child_id AND kind = {r}.kind;"
        f" INSERT INTO {LAST} (child_id, kind, at, day)"
        f" SELECT child_id, kind, MAX(at), {DAY[vendor].format('MAX(at)')} FROM {CONTACTS}"
        f" WHERE child_id = {r}.child_id AND kind = {r}.kind GROUP BY child_id, kind;"
    )


def _upsert(vendor: str) -> str:
    return (
        f"INSERT INTO {LAST} (child_id, kind, at, day)"
        f" VALUES (NEW.child_id, NEW.kind, NEW.at, {DAY[vendor].format('NEW.at')})"
        f" ON CONFLICT (child_id, kind) DO UPDATE SET at = excluded.at, day = excluded.day"
        f" WHERE excluded.at > {LAST}.at;"
    )


TRIGGERS = {
    "sqlite": (
        [
            f"""CREATE TRIGGER IF NOT EXISTS contact_last_insert AFTER INSERT ON {CONTACTS}
            BEGIN {_upsert("sqlite")} END""",
            f"""CREATE TRIGGER IF NOT EXISTS contact_last_delete AFTER DELETE ON {CONTACTS}
            BEGIN {_recompute("sqlite", "OLD")} END""",
            f"""CREATE TRIGGER IF NOT EXISTS contact_last_update
            AFTER UPDATE OF child_id, kind, at ON {CONTACTS}
            BEGIN {_recompute("sqlite", "OLD")} {_recompute("sqlite", "NEW")} END""",
        ],
        [
            "DROP TRIGGER IF EXISTS contact_last_insert",
            "DROP TRIGGER IF EXISTS contact_last_delete",
            "DROP TRIGGER IF EXISTS contact_last_update",
        ],
    ),
    "postgresql": (
        [
            f"""CREATE OR REPLACE FUNCTION contact_last() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    {_upsert("postgresql")}
                    RETURN NULL;
                END IF;
                {_recompute("postgresql", "OLD")}
                IF TG_OP = 'UPDATE' THEN
                    {_recompute("postgresql", "NEW")}
                END IF;
                RETURN NULL;
            END $$""",
            f"DROP TRIGGER IF EXISTS contact_last ON {CONTACTS}",
            f"""CREATE TRIGGER contact_last
            AFTER INSERT OR DELETE OR UPDATE OF child_id, kind, at ON {CONTACTS}
            FOR EACH ROW EXECUTE FUNCTION contact_last()""",
        ],
        [
            f"DROP TRIGGER IF EXISTS contact_last ON {CONTACTS}",
            "DROP FUNCTION IF EXISTS contact_last()",
        ],
    ),
}


def _fill(vendor: str) -> list[str]:
    return [
        f"DELETE FROM {LAST}",
        (
            f"INSERT INTO {LAST} (child_id, kind, at, day)"
            f" SELECT child_id, kind, MAX(at), {DAY[vendor].format('MAX(at)')} FROM {CONTACTS}"
            f" GROUP BY child_id, kind"
        ),
    ]


def install_triggers(schema_editor) -> None:
    """Create the triggers for this engine and fill the table from the contacts (a
    migration's RunPython; safe to run again)."""
    vendor = schema_editor.connection.vendor
    create, _ = TRIGGERS.get(vendor, ([], []))
    triggers.run(schema_editor, create + (_fill(vendor) if vendor in DAY else []))


def drop_triggers(schema_editor) -> None:
    _, drop = TRIGGERS.get(schema_editor.connection.vendor, ([], []))
    triggers.run(schema_editor, drop)


def trigger_names(connection) -> set[str]:
    """The triggers present on the contacts table."""
    return triggers.names(connection, CONTACTS)
