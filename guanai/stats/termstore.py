"""Stored points of the trends per term (`stats.TermPoint`): a past day's point is counted once.

The dashboard's 学期趋势 counts four terms, each as of its last day (`trends.term_point`): a
history pass over the cards and the term's records, verifications, home visits, pairs and
proxy assignments. Three of the four are finished terms and their numbers rarely change, yet
they were counted on every request (at a school on PostgreSQL about half of its drill-down,
bench/stats.py). So a point of a past day is stored per user scope and filters (`key`), term
and day, and read back; the running term (its day is today) is always counted.

What a past day's point reads, and who clears it when that changes:
- the cards' history: rows are only ever added, stamped with the moment they are written, so
  a past day's history never changes (as for `DayCount`);
- the user's units: today's role assignments are part of `key` (another set: another point);
- home visits, screening records, verifications, pairs and any child assignment (proxy
  parents; the children a user follows one by one): triggers on their tables (TRIGGERS,
  installed by stats migration 0004) delete the points of every day the written row could
  change — from the local date of its date on (a visit's time, a record's screened_at, a
  pair's accepted_at or ended_at, an assignment's valid_from or valid_to), for the old row
  and the new — in the writer's transaction, whatever wrote it. A write that changes none of
  those (a note, a follow-up; a pair ended today) clears nothing;
- which schools held a term's campaign or round: a written campaign or round deletes its
  term's points;
- schools and classes (their code, town, grade and number are the filters): any change
  deletes every point.

No stale point is stored: a reader first stores an empty row (`data` NULL) and only then
counts; it writes its count into that row only if the row is still there and still empty.
A write that lands while it counts deletes the row (on PostgreSQL the reader's UPDATE waits for
the writer and then finds no row), so the next reader counts again. A writer whose transaction
was already open when the empty row appeared cannot see it: on SQLite it held the database's
write lock, so the empty row waited for its commit; on PostgreSQL the triggers take a shared
advisory lock and the reader takes it exclusively (briefly, at most `SETTLE_MS`) before it
counts, so it counts only after such writers commit — or does not store.
"""

import datetime as dt
import hashlib
import json
from typing import Any

from django.db import connections, router
from django.utils import timezone

from guanai.accounts import scope
from guanai.lib import triggers

from .models import TermPoint

TABLE = "stats_termpoint"
LOCK = 74_510_014  # the advisory lock writers share on PostgreSQL (any fixed number)
SETTLE_MS = 500


def key_of(user, where: dict[str, Any]) -> str:
    """The user's scope (today's role assignments) and the filters, as one string."""
    who = scope.fingerprint(user)
    filters = sorted((k, v) for k, v in where.items() if v not in (None, ""))
    raw = json.dumps([who, filters], default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def _encode(point: dict[str, Any]) -> dict[str, Any]:
    return {**point, "as_of": point["as_of"].isoformat()}


def _decode(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "as_of": dt.date.fromisoformat(data["as_of"])}


def points(user, wanted: list[tuple[str, dt.date]], count, **where: Any) -> list[dict[str, Any]]:
    """`count(user, term, day, **where)` (trends.term_point) for each (term, day) of `wanted`,
    a past day's read back or counted and stored: one query reads the stored points, one
    stores the empty rows of those missing, one UPDATE a point stores each."""
    today = timezone.localdate()
    past = [(term, day) for term, day in wanted if day < today]
    found: dict[tuple[str, dt.date], dict[str, Any]] = {}
    if past:
        db = router.db_for_write(TermPoint)  # the primary, also when a request reads a replica
        key = key_of(user, where)
        mine = TermPoint.objects.using(db).filter(
            key=key, term__in={t for t, _ in past}, day__in={d for _, d in past}
        )
        for term, day, data in mine.values_list("term", "day", "data"):
            if data is not None:
                found[(term, day)] = _decode(data)
        missing = [(t, d) for t, d in past if (t, d) not in found]
        if missing:
            TermPoint.objects.using(db).bulk_create(
                [TermPoint(key=key, term=t, day=d) for t, d in missing], ignore_conflicts=True
            )
            settled = _settle(db)
            for term, day in missing:
                found[(term, day)] = data = count(user, term, day, **where)
                if settled:  # into the empty row, if no write has deleted it meanwhile
                    mine.filter(term=term, day=day, data__isnull=True).update(data=_encode(data))
    return [found.get((t, d)) or count(user, t, d, **where) for t, d in wanted]


def _settle(db: str) -> bool:
    """Wait until the writers whose transactions were open when the empty row was stored have
    committed (PostgreSQL; SQLite's write lock already did): whether that happened in time.
    One statement (`term_point_settle`, installed with the triggers) takes the lock and gives
    it back at once, at session level, so that a caller's open transaction does not keep
    writers waiting; past SETTLE_MS (a long write, an import) it gives up."""
    connection = connections[db]
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT term_point_settle(%s)", [SETTLE_MS])
        return bool(cursor.fetchone()[0])


SETTLE_FUNCTION = f"""CREATE OR REPLACE FUNCTION term_point_settle(ms integer) RETURNS boolean
    LANGUAGE plpgsql AS $$
    DECLARE
        before text := current_setting('lock_timeout');
    BEGIN
        BEGIN
            PERFORM set_config('lock_timeout', ms || 'ms', false);
            PERFORM pg_advisory_lock({LOCK});
            PERFORM pg_advisory_unlock({LOCK});
        EXCEPTION WHEN lock_not_available THEN
            PERFORM set_config('lock_timeout', before, false);
            RETURN false;
        END;
        PERFORM set_config('lock_timeout', before, false);
        RETURN true;
    END $$"""


# The tables a point reads, and when a write to one of them changes it. Each clause: a date
# column (the point of every day from its local date on may change) and the columns whose
# change moves it; an insert or a deletion is a change of the first clause.
WATCHED: dict[str, dict[str, Any]] = {
    "contacts_contact": {
        "clauses": [("at", True, ("at", "kind", "child_id"))],
        "only": "kind = 'home_visit'",  # the rows that count (old or new)
    },
    "screening_screeningrecord": {
        "clauses": [("screened_at", True, ("screened_at", "campaign_id", "child_id"))],
    },
    "screening_cardverification": {
        "clauses": [("verified_at", True, ("verified_at", "round_id", "child_id"))],
    },
    "pairing_pair": {
        # in force on a day: active or ended, accepted by then, not ended by then
        "clauses": [
            ("accepted_at", True, ("accepted_at", "child_id", "IN_FORCE")),
            ("ended_at", True, ("ended_at",)),
        ],
        "in_force": "status IN ('active', 'ended')",
    },
    "children_childassignment": {
        "clauses": [
            ("valid_from", False, ("valid_from", "child_id", "user_id", "kind")),
            ("valid_to", False, ("valid_to",)),
        ],
    },
}
BY_TERM = ("screening_screeningcampaign", "screening_verificationround")  # (term, school_id)
ORG = {"org_school": ("town_id", "code"), "org_schoolclass": ("school_id", "grade", "class_no")}
TZ_HOURS = 8  # Asia/Shanghai, no daylight saving


def _local(vendor: str, ref: str, column: str, moment: bool) -> str:
    value = f"{ref}.{column}"
    if not moment:
        return value
    if vendor == "sqlite":
        return f"date({value}, '+{TZ_HOURS} hours')"
    return f"({value} AT TIME ZONE 'Asia/Shanghai')::date"


def _changed(vendor: str, column: str, spec: dict[str, Any]) -> str:
    if column == "IN_FORCE":
        old = spec["in_force"].replace("status", "OLD.status")
        new = spec["in_force"].replace("status", "NEW.status")
        return f"(({old}) <> ({new}))"
    distinct = "IS NOT" if vendor == "sqlite" else "IS DISTINCT FROM"
    return f"OLD.{column} {distinct} NEW.{column}"


def _deletes(vendor: str, table: str, op: str) -> list[str]:
    spec = WATCHED[table]
    only = spec.get("only")
    out = []
    refs = {"insert": ["NEW"], "delete": ["OLD"], "update": ["OLD", "NEW"]}[op]
    clauses = spec["clauses"] if op == "update" else spec["clauses"][:1]
    for column, moment, moves in clauses:
        for ref in refs:
            conds = [f"day >= {_local(vendor, ref, column, moment)}"]
            if op == "update":
                conds.append("(" + " OR ".join(_changed(vendor, c, spec) for c in moves) + ")")
                if only:
                    old, new = (only.replace("kind", f"{r}.kind") for r in ("OLD", "NEW"))
                    conds.append(f"({old} OR {new})")
            elif only:
                conds.append(only.replace("kind", f"{ref}.kind"))
            out.append(f"DELETE FROM {TABLE} WHERE " + " AND ".join(conds) + ";")
    return out


def _watched_columns(table: str) -> list[str]:
    spec = WATCHED[table]
    cols: list[str] = []
    for column, _moment, moves in spec["clauses"]:
        for c in (column, *moves):
            c = "status" if c == "IN_FORCE" else c
            if c not in cols:
                cols.append(c)
    return cols


def _sqlite() -> tuple[list[str], list[str]]:
    create, drop = [], []
    for table in WATCHED:
        for op in ("insert", "delete", "update"):
            name = f"term_point_{table}_{op}"
            event = (
                f"UPDATE OF {', '.join(_watched_columns(table))}" if op == "update" else op.upper()
            )
            body = " ".join(_deletes("sqlite", table, op))
            create.append(
                f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} BEGIN {body} END"
            )
            drop.append(f"DROP TRIGGER IF EXISTS {name}")
    for table in BY_TERM:
        for op, refs in (("insert", ["NEW"]), ("delete", ["OLD"]), ("update", ["OLD", "NEW"])):
            name = f"term_point_{table}_{op}"
            event = "UPDATE OF term, school_id" if op == "update" else op.upper()
            terms = ", ".join(f"{r}.term" for r in refs)
            create.append(
                f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} "
                f"BEGIN DELETE FROM {TABLE} WHERE term IN ({terms}); END"
            )
            drop.append(f"DROP TRIGGER IF EXISTS {name}")
    for table, columns in ORG.items():
        for op in ("insert", "delete", "update"):
            name = f"term_point_{table}_{op}"
            event = f"UPDATE OF {', '.join(columns)}" if op == "update" else op.upper()
            create.append(
                f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} "
                f"BEGIN DELETE FROM {TABLE}; END"
            )
            drop.append(f"DROP TRIGGER IF EXISTS {name}")
    return create, drop


def _plpgsql(name: str, insert: list[str], delete: list[str], update: list[str]) -> str:
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock_shared({LOCK});
        IF TG_OP = 'INSERT' THEN
            {" ".join(insert) or "NULL;"}
        ELSIF TG_OP = 'DELETE' THEN
            {" ".join(delete) or "NULL;"}
        ELSE
            {" ".join(update) or "NULL;"}
        END IF;
        RETURN NULL;
    END $$"""


def _postgresql() -> tuple[list[str], list[str]]:
    create, drop = [SETTLE_FUNCTION], ["DROP FUNCTION IF EXISTS term_point_settle(integer)"]

    def attach(table: str, function: str, update_of: list[str] | tuple[str, ...]) -> None:
        create.append(f"DROP TRIGGER IF EXISTS term_point ON {table}")
        create.append(
            f"""CREATE TRIGGER term_point
            AFTER INSERT OR DELETE OR UPDATE OF {", ".join(update_of)} ON {table}
            FOR EACH ROW EXECUTE FUNCTION {function}()"""
        )
        drop.append(f"DROP TRIGGER IF EXISTS term_point ON {table}")
        drop.append(f"DROP FUNCTION IF EXISTS {function}()")

    for table in WATCHED:
        function = f"term_point_{table}"
        create.append(
            _plpgsql(
                function,
                _deletes("postgresql", table, "insert"),
                _deletes("postgresql", table, "delete"),
                _deletes("postgresql", table, "update"),
            )
        )
        attach(table, function, _watched_columns(table))
    for table in BY_TERM:
        function = f"term_point_{table}"
        create.append(
            _plpgsql(
                function,
                [f"DELETE FROM {TABLE} WHERE term = NEW.term;"],
                [f"DELETE FROM {TABLE} WHERE term = OLD.term;"],
                [f"DELETE FROM {TABLE} WHERE term IN (OLD.term, NEW.term);"],
            )
        )
        attach(table, function, ("term", "school_id"))
    for table, columns in ORG.items():
        function = f"term_point_{table}"
        every = [f"DELETE FROM {TABLE};"]
        create.append(_plpgsql(function, every, every, every))
        attach(table, function, columns)
    return create, drop


TRIGGERS = {"sqlite": _sqlite(), "postgresql": _postgresql()}
TABLES = (*WATCHED, *BY_TERM, *ORG)


def install_triggers(schema_editor) -> None:
    """Create the triggers for this engine (a migration's RunPython; safe to run again) and
    forget every stored point."""
    triggers.install(schema_editor, TRIGGERS, f"DELETE FROM {TABLE}")


def drop_triggers(schema_editor) -> None:
    triggers.drop(schema_editor, TRIGGERS)


def trigger_names(connection) -> dict[str, set[str]]:
    return {table: triggers.names(connection, table) for table in TABLES}
