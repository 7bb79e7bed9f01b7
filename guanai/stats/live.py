"""Today's counts per class (`stats.LiveCount`), kept equal to the cards by database triggers.

Today's summary and dashboard must be live (SPEC §6.3: a card changed a minute ago is counted),
yet counting a county's 100,000 cards, their parents and guardians on every request takes
half a second to a second (bench/stats.py). So each class's counts (daycounts.KEYS, the same
vector a finished day stores) are kept in a row, and a request sums the rows of the classes in
its scope; only the classes written since they were last counted are counted again.

Who tells a row it is out of date: triggers on `children_child`, `children_parent` and
`children_guardian` (TRIGGERS, installed by stats migration 0003). Each insert, deletion, and
update of a counted column bumps `gen` and clears `counts` of the class of the row — the old
and the new class when a card moves — in the writer's transaction, whatever wrote it: a form,
the API, an import's bulk path, anonymisation, raw SQL. A migration that makes SQLite rebuild
one of these tables (an AlterField on Child, Parent or Guardian) drops its triggers with the
old table and must call `install_triggers` again (test_live.py fails until it does).

How a reader stores what it counted without storing something stale: it reads each row's
`gen`, counts the cards, and writes the counts back only `WHERE gen = <the gen it read>`. A
write that lands in between bumps `gen` (on PostgreSQL the reader's UPDATE waits for the
writer's lock and then finds the new `gen`), so the row stays cleared and the next reader counts
again. The answer itself is always what the reader counted.

Age bands move at midnight: a row counted on another day is counted again (`day`), and the
worker recounts every class once after midnight (`tasks.refresh_live_counts`), so the first
leader of the morning does not wait for the whole county.

Cost: one indexed UPDATE of a one-row-per-class table per written card, parent or guardian;
a class of 40 counted again in a few milliseconds.
"""

import json
import time
from collections.abc import Iterable
from contextlib import nullcontext

from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone

from guanai.lib import triggers
from guanai.org.models import SchoolClass

from . import daycounts
from .models import LiveCount

TABLE = "stats_livecount"
CHILD = "children_child"
# the columns of the cards, parents and guardians the counts read: a write to any other
# column (the responsible teacher, a note, the version) leaves the class's counts alone
CHILD_COLUMNS = tuple(c for c in daycounts.CARD_COLUMNS if c != "id") + ("enrolment",)
FAMILY = {
    "children_parent": ("child_id", "relation", "status"),
    "children_guardian": ("child_id", "name", "phone", "relation"),
}


def _bump(where: str) -> str:
    return f"UPDATE {TABLE} SET gen = gen + 1, counts = NULL WHERE school_class_id {where};"


def _of_child(ref: str) -> str:
    return f"IN (SELECT school_class_id FROM {CHILD} WHERE id = {ref}.child_id)"


def _sqlite() -> tuple[list[str], list[str]]:
    cols = ", ".join(CHILD_COLUMNS)
    create = [
        f"""CREATE TRIGGER IF NOT EXISTS live_child_insert AFTER INSERT ON {CHILD}
        BEGIN {_bump("= NEW.school_class_id")} END""",
        f"""CREATE TRIGGER IF NOT EXISTS live_child_delete AFTER DELETE ON {CHILD}
        BEGIN {_bump("= OLD.school_class_id")} END""",
        f"""CREATE TRIGGER IF NOT EXISTS live_child_update AFTER UPDATE OF {cols} ON {CHILD}
        BEGIN {_bump("IN (OLD.school_class_id, NEW.school_class_id)")} END""",
    ]
    drop = [f"DROP TRIGGER IF EXISTS live_child_{op}" for op in ("insert", "delete", "update")]
    for table, columns in FAMILY.items():
        name = table.removeprefix("children_")
        create += [
            f"""CREATE TRIGGER IF NOT EXISTS live_{name}_insert AFTER INSERT ON {table}
            BEGIN {_bump(_of_child("NEW"))} END""",
            f"""CREATE TRIGGER IF NOT EXISTS live_{name}_delete AFTER DELETE ON {table}
            BEGIN {_bump(_of_child("OLD"))} END""",
            f"""CREATE TRIGGER IF NOT EXISTS live_{name}_update
            AFTER UPDATE OF {", ".join(columns)} ON {table}
            BEGIN {_bump(_of_child("OLD"))} {_bump(_of_child("NEW"))} END""",
        ]
        drop += [
            f"DROP TRIGGER IF EXISTS live_{name}_{op}" for op in ("insert", "delete", "update")
        ]
    return create, drop


def _postgresql() -> tuple[list[str], list[str]]:
    create = [
        f"""CREATE OR REPLACE FUNCTION live_count_child() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_bump("= NEW.school_class_id")}
            ELSIF TG_OP = 'DELETE' THEN
                {_bump("= OLD.school_class_id")}
            ELSE
                {_bump("IN (OLD.school_class_id, NEW.school_class_id)")}
            END IF;
            RETURN NULL;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION live_count_family() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                {_bump(_of_child("OLD"))}
            END IF;
            IF TG_OP <> 'DELETE' THEN
                {_bump(_of_child("NEW"))}
            END IF;
            RETURN NULL;
        END $$""",
        f"DROP TRIGGER IF EXISTS live_count ON {CHILD}",
        f"""CREATE TRIGGER live_count
        AFTER INSERT OR DELETE OR UPDATE OF {", ".join(CHILD_COLUMNS)} ON {CHILD}
        FOR EACH ROW EXECUTE FUNCTION live_count_child()""",
    ]
    drop = [f"DROP TRIGGER IF EXISTS live_count ON {CHILD}"]
    for table, columns in FAMILY.items():
        create += [
            f"DROP TRIGGER IF EXISTS live_count ON {table}",
            f"""CREATE TRIGGER live_count
            AFTER INSERT OR DELETE OR UPDATE OF {", ".join(columns)} ON {table}
            FOR EACH ROW EXECUTE FUNCTION live_count_family()""",
        ]
        drop.append(f"DROP TRIGGER IF EXISTS live_count ON {table}")
    drop += [
        "DROP FUNCTION IF EXISTS live_count_child()",
        "DROP FUNCTION IF EXISTS live_count_family()",
    ]
    return create, drop


TRIGGERS = {"sqlite": _sqlite(), "postgresql": _postgresql()}


def install_triggers(schema_editor) -> None:
    """Create the triggers for this engine (a migration's RunPython; safe to run again) and
    clear every stored count: the next reader counts afresh."""
    triggers.install(schema_editor, TRIGGERS, f"UPDATE {TABLE} SET gen = gen + 1, counts = NULL")


def drop_triggers(schema_editor) -> None:
    triggers.drop(schema_editor, TRIGGERS)


def trigger_names(connection) -> dict[str, set[str]]:
    """{table: names of its triggers} for the three watched tables."""
    return {table: triggers.names(connection, table) for table in (CHILD, *FAMILY)}


def counts(class_ids: Iterable[int] | None) -> dict[int, list[int]]:
    """{class id: today's counts in daycounts.KEYS order} of the classes `class_ids` (None:
    every class): the stored rows counted today, the others counted now (and stored when no
    write came in between)."""
    today = timezone.localdate()
    # The primary, even within a report request that reads the replica: a lagging replica's
    # rows and cards must never be counted into the primary's rows (a `gen` read there may
    # already be the primary's while its cards are not yet). Summing a county's rows on the
    # primary costs a few dozen milliseconds.
    db = router.db_for_write(LiveCount)
    rows = LiveCount.objects.using(db).all()
    wanted = None if class_ids is None else set(class_ids)
    if wanted is not None:
        rows = rows.filter(pk__in=wanted)
    found = {pk: rest for pk, *rest in rows.values_list("pk", "gen", "day", "layout", "counts")}
    missing = (
        set(
            SchoolClass.objects.using(db)
            .filter(live_count__isnull=True)
            .values_list("pk", flat=True)
        )
        if wanted is None
        else wanted - set(found)
    )
    if missing:  # a new class, or the table's first use: rows to keep from now on
        LiveCount.objects.using(db).bulk_create(
            [LiveCount(school_class_id=pk) for pk in missing], ignore_conflicts=True
        )
        found |= {pk: [0, None, 0, None] for pk in missing}  # gen 0: just made
    out = {}
    stale: dict[int, int] = {}
    for pk, (gen, day, layout, vector) in found.items():
        if vector is None or day != today or layout != daycounts.LAYOUT:
            stale[pk] = gen
        else:
            out[pk] = vector
    if stale:
        out |= _count(stale, today, db, every=wanted is None and len(stale) == len(found))
    return out


def _count(stale: dict[int, int], today, db: str, *, every: bool) -> dict[int, list[int]]:
    """Count the classes `stale` ({class id: gen read}) now, in `db`, and store each one whose
    gen has not moved."""
    counted = daycounts.count_classes(
        today, live=True, class_ids=None if every else list(stale), db=db
    )
    zero = [0] * daycounts.LAYOUT
    out = {pk: daycounts.vector(counted[pk]) if pk in counted else zero for pk in stale}
    _store(stale, out, today, db)
    return out


def _store(stale: dict[int, int], vectors: dict[int, list[int]], today, db: str) -> None:
    """Write the counted rows back, each only where its gen is the one read (one prepared
    statement for the lot). SQLite: one transaction (one writer at a time anyway);
    PostgreSQL in autocommit: each row on its own, one row lock at a time, so no deadlock
    with a writer moving a card between two classes. A failure (a deadlock all the same) only
    leaves rows for the next reader to count."""
    conn = connections[db]
    value = "%s::jsonb" if conn.vendor == "postgresql" else "%s"
    sql = (
        f"UPDATE {TABLE} SET counts = {value}, day = %s, layout = %s"
        " WHERE school_class_id = %s AND gen = %s"
    )
    day = conn.ops.adapt_datefield_value(today)
    params = [
        (json.dumps(vectors[pk]), day, daycounts.LAYOUT, pk, gen) for pk, gen in stale.items()
    ]
    whole = conn.vendor == "sqlite" or conn.in_atomic_block  # a savepoint within a transaction
    try:
        with transaction.atomic(using=db) if whole else nullcontext(), conn.cursor() as cursor:
            cursor.executemany(sql, params)
    except DatabaseError:
        pass


def refresh() -> tuple[int, float]:
    """Count every class not yet counted today (the worker, after midnight): how many, and
    the seconds it took."""
    t0 = time.perf_counter()
    today = timezone.localdate()
    db = router.db_for_write(LiveCount)
    stale = LiveCount.objects.using(db).exclude(
        day=today, layout=daycounts.LAYOUT, counts__isnull=False
    )
    n = stale.count() + SchoolClass.objects.using(db).filter(live_count__isnull=True).count()
    if n:
        counts(None)
    return n, time.perf_counter() - t0
