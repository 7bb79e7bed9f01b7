"""`contacts.ContactSummary` kept by the database: triggers on the contacts table (issue #19).

One row per child with a pair of columns per contact kind: the time of the child's latest
contact of that kind (`<kind>_at`) and its local day (`<kind>_day`, days since 1970-01-01 in
Asia/Shanghai), NULL when there is none. The due list (`contacts.due`) decides a child's rules
from this one row — a lookup by primary key.

Every write of a contact goes through the table, so the triggers see it whatever code wrote
(services, API, sync, imports, bulk_create, raw SQL, cascades):

- insert: the child's row is created if missing, then the kind's pair is raised to the new
  contact when it is later;
- delete, and an update of `child_id`, `kind` or `at`: the child's row (the old child's and the
  new child's) is recomputed from its contacts (one child's few contacts; no row when none is
  left).

A new `ContactKind` needs its two columns (a migration) and the triggers installed again. A
migration that makes SQLite rebuild the contacts table drops these triggers with the old table:
it must call `install_triggers` again (`test_due_summary.py` fails until it does).
"""

from guanai.lib import triggers

from .models import ContactKind

CONTACTS = "contacts_contact"
SUMMARY = "contacts_contactsummary"
KINDS = list(ContactKind.values)
COLUMNS = [c for k in KINDS for c in (f"{k}_at", f"{k}_day")]
# The local day (Asia/Shanghai, fixed UTC+8 since 1991) of a stored timestamp, as days since
# 1970-01-01: `contacts.due` uses the same expressions.
DAY = {
    "sqlite": "((CAST(strftime('%s', {}) AS INTEGER) + 28800) / 86400)",
    "postgresql": "(CAST({} AT TIME ZONE 'Asia/Shanghai' AS date) - DATE '1970-01-01')",
}


def _pivot(vendor: str, where: str) -> str:
    """The summary rows of the children matching `where`, computed from their contacts."""
    cols = []
    for k in KINDS:
        last = f"MAX(CASE WHEN kind = '{k}' THEN at END)"
        cols += [last, DAY[vendor].format(last)]
    return (
        f"INSERT INTO {SUMMARY} (child_id, {', '.join(COLUMNS)})"
        f" SELECT child_id, {', '.join(cols)} FROM {CONTACTS} WHERE {where} GROUP BY child_id;"
    )


def _recompute(vendor: str, r: str) -> str:
    """Recompute one child's row from its contacts; `r` is OLD or NEW."""
    return (
        f"DELETE FROM {SUMMARY} WHERE child_id = {r}.child_id;"
        f" {_pivot(vendor, f'child_id = {r}.child_id')}"
    )


def _raise(vendor: str) -> str:
    """Insert: make sure the child has a row, then raise the new contact's kind."""
    sets = []
    for k in KINDS:
        later = f"NEW.kind = '{k}' AND ({k}_at IS NULL OR NEW.at > {k}_at)"
        sets.append(f"{k}_at = CASE WHEN {later} THEN NEW.at ELSE {k}_at END")
        day = DAY[vendor].format("NEW.at")
        sets.append(f"{k}_day = CASE WHEN {later} THEN {day} ELSE {k}_day END")
    return (
        f"INSERT INTO {SUMMARY} (child_id) VALUES (NEW.child_id) ON CONFLICT (child_id) DO NOTHING;"
        f" UPDATE {SUMMARY} SET {', '.join(sets)} WHERE child_id = NEW.child_id;"
    )


TRIGGERS = {
    "sqlite": (
        [
            f"""CREATE TRIGGER IF NOT EXISTS contact_summary_insert AFTER INSERT ON {CONTACTS}
            BEGIN {_raise("sqlite")} END""",
            f"""CREATE TRIGGER IF NOT EXISTS contact_summary_delete AFTER DELETE ON {CONTACTS}
            BEGIN {_recompute("sqlite", "OLD")} END""",
            f"""CREATE TRIGGER IF NOT EXISTS contact_summary_update
            AFTER UPDATE OF child_id, kind, at ON {CONTACTS}
            BEGIN {_recompute("sqlite", "OLD")} {_recompute("sqlite", "NEW")} END""",
        ],
        [
            "DROP TRIGGER IF EXISTS contact_summary_insert",
            "DROP TRIGGER IF EXISTS contact_summary_delete",
            "DROP TRIGGER IF EXISTS contact_summary_update",
        ],
    ),
    "postgresql": (
        [
            f"""CREATE OR REPLACE FUNCTION contact_summary() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    {_raise("postgresql")}
                    RETURN NULL;
                END IF;
                {_recompute("postgresql", "OLD")}
                IF TG_OP = 'UPDATE' AND NEW.child_id <> OLD.child_id THEN
                    {_recompute("postgresql", "NEW")}
                END IF;
                RETURN NULL;
            END $$""",
            f"DROP TRIGGER IF EXISTS contact_summary ON {CONTACTS}",
            f"""CREATE TRIGGER contact_summary
            AFTER INSERT OR DELETE OR UPDATE OF child_id, kind, at ON {CONTACTS}
            FOR EACH ROW EXECUTE FUNCTION contact_summary()""",
        ],
        [
            f"DROP TRIGGER IF EXISTS contact_summary ON {CONTACTS}",
            "DROP FUNCTION IF EXISTS contact_summary()",
        ],
    ),
}


def _fill(vendor: str) -> list[str]:
    return [f"DELETE FROM {SUMMARY}", _pivot(vendor, "TRUE").rstrip(";")]


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
