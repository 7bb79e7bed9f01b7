"""Today's coverage panels per class (`stats.CoverageLine`): a town's panels without a pass
over every card on every request.

The six coverage panels of the dashboard (coverage.py) count, at a town of 100,000 children,
a second and more (bench/stats.py): the due list over every card, a probe of the contacts per
left-behind child, the term's records and verifications. Their numbers per unit are sums of
their numbers per class (a child is in one class), so each class's numbers are stored for the
day, and a request sums the lines of the classes in its scope; only the classes written since
they were counted are counted again. The children of no class are counted live (few).

Who tells a line it is out of date: database triggers (TRIGGERS, installed by stats migration
0005) add a row to `stats_coveragechange`, in the writer's transaction, whatever wrote it:

- the class of the child of a written contact, screening record, card verification, pair or
  child assignment (proxy parents), the old and the new;
- the old and the new class of a card inserted, deleted, or whose school, class, category,
  enrolment or 民政 flag changed;
- the school of a written screening campaign, verification round or school's contact rule
  (every class of the school);
- everything, for a town's contact rule, or a school moved to another town or a class to
  another school.

Why a log and not a number per class bumped by the writer (as `LiveCount` does): a long
import or a batch of letters writes contacts of hundreds of classes in one transaction; a row
per class updated by it would stay locked until it commits, and a reader, or another writer
touching the same classes in another order, would wait for it or deadlock. Rows only added
take no lock anyone waits for.

When a stored line is valid: it was counted today, under the same due rules (a proxy parent's
due list counts fewer rules than a leader's), and its class's changes — the count and largest
id of the rows of the class, of its school, and of everything — are those read before it was
counted. A reader reads them first and counts after: a write committed before is counted; one
committed after (or still open, whatever its id) adds a row the next reader sees, so that
reader counts the class again. Nothing is ever locked or compared-and-swapped; two readers
storing the same class store numbers each as fresh as its marks say.

The day: "today" numbers (due today, a proxy parent valid today, this term) move at midnight,
so a line counted on another day is counted again. The worker (`refresh`, hourly) counts the
classes out of date under a leader's rules, so after midnight the whole county is counted
before the first leader of the morning asks; its first round of a day first removes the log's
rows, which no line of the new day has seen. A reader that read the marks before that removal
and stores after it stores marks that count the removed rows: its lines are counted again
once (their class's count of rows went down).

Read and counted on the primary, also within a report request that reads the replica: a
lagging replica's contacts must never be stored under the primary's marks.

The due list of a whole town reads the lines too (`use_due_counts`): its counts per class, and
each class's first children due (`CoverageLine.first`, FIRST_CHILDREN of them as their
places in the list, `places`; the class's first in `data["top"]`) and those children's items
due (`CoverageLine.items`), from which `first_children` and `first_items` merge any page of
the town's children or items while opening only the classes that can hold them.
"""

import datetime as dt
import logging
import sys
from array import array
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DatabaseError, connections, router, transaction
from django.db.models import Count, Max
from django.utils import timezone

from guanai.children.models import Child, Enrolment
from guanai.contacts.due import DueList
from guanai.db_router import reading_replica
from guanai.lib import triggers
from guanai.lib.dates import current_term
from guanai.org.models import SchoolClass

from .models import CoverageChange, CoverageLine
from .services import CATEGORIES

logger = logging.getLogger(__name__)

LOG = "stats_coveragechange"
LINES = "stats_coverageline"
CHILD = "children_child"
# tables whose rows name a child: a write changes the child's class's panels
BY_CHILD = (
    "contacts_contact",
    "screening_screeningrecord",
    "screening_cardverification",
    "pairing_pair",
    "children_childassignment",
)
CHILD_COLUMNS = ("school_id", "school_class_id", "category", "enrolment", "civil_affairs")
# tables whose rows name a school (a town's contact rule: none, i.e. every school)
BY_SCHOOL = (
    "screening_screeningcampaign",
    "screening_verificationround",
    "contacts_contactrule",
)
ORG = {"org_school": ("town_id",), "org_schoolclass": ("school_id",)}  # every line
LAYOUT = 6  # what a line holds: a change to it (a new number) makes a new layout
LISTS_FROM = 200  # classes: from this many, the running term's records are looked up in lists


def _of_child(ref: str) -> str:
    return (
        f"INSERT INTO {LOG} (school_class_id) SELECT school_class_id FROM {CHILD}"
        f" WHERE id = {ref}.child_id AND school_class_id IS NOT NULL;"
    )


def _class(ref: str, also: str = "") -> str:
    return (
        f"INSERT INTO {LOG} (school_class_id) SELECT {ref}.school_class_id"
        f" WHERE {ref}.school_class_id IS NOT NULL{also};"
    )


def _school(ref: str) -> str:
    return f"INSERT INTO {LOG} (school_id) VALUES ({ref}.school_id);"


EVERY = f"INSERT INTO {LOG} (school_class_id, school_id) VALUES (NULL, NULL);"


def _bodies(vendor: str) -> dict[str, tuple[list[str], list[str], list[str], tuple[str, ...]]]:
    """{table: (insert, delete, update statements, columns an update is watched on: () any)}."""
    distinct = "IS NOT" if vendor == "sqlite" else "IS DISTINCT FROM"
    out: dict[str, tuple[list[str], list[str], list[str], tuple[str, ...]]] = {}
    for table in BY_CHILD:
        moved = f" AND OLD.child_id {distinct} NEW.child_id"
        update = [
            _of_child("NEW"),
            _of_child("OLD").replace("IS NOT NULL;", f"IS NOT NULL{moved};"),
        ]
        out[table] = ([_of_child("NEW")], [_of_child("OLD")], update, ())
    moved = f" AND OLD.school_class_id {distinct} NEW.school_class_id"
    out[CHILD] = (
        [_class("NEW")],
        [_class("OLD")],
        [_class("NEW"), _class("OLD", moved)],
        CHILD_COLUMNS,
    )
    for table in BY_SCHOOL:
        out[table] = ([_school("NEW")], [_school("OLD")], [_school("OLD"), _school("NEW")], ())
    for table, columns in ORG.items():
        out[table] = ([], [], [EVERY], columns)
    return out


def _sqlite() -> tuple[list[str], list[str]]:
    create, drop = [], []
    for table, bodies in _bodies("sqlite").items():
        *statements, columns = bodies
        for op, body in zip(("insert", "delete", "update"), statements, strict=True):
            if not body:
                continue
            name = f"coverage_{table}_{op}"
            event = op.upper()
            if op == "update" and columns:
                event = f"UPDATE OF {', '.join(columns)}"
            create.append(
                f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table}"
                f" BEGIN {' '.join(body)} END"
            )
            drop.append(f"DROP TRIGGER IF EXISTS {name}")
    return create, drop


def _postgresql() -> tuple[list[str], list[str]]:
    create, drop = [], []
    for table, (insert, delete, update, columns) in _bodies("postgresql").items():
        function = f"coverage_{table}"
        create.append(
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    {" ".join(insert) or "NULL;"}
                ELSIF TG_OP = 'DELETE' THEN
                    {" ".join(delete) or "NULL;"}
                ELSE
                    {" ".join(update) or "NULL;"}
                END IF;
                RETURN NULL;
            END $$"""
        )
        events = [e for e, body in (("INSERT", insert), ("DELETE", delete)) if body]
        events.append(f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE")
        create.append(f"DROP TRIGGER IF EXISTS coverage_line ON {table}")
        create.append(
            f"""CREATE TRIGGER coverage_line AFTER {" OR ".join(events)} ON {table}
            FOR EACH ROW EXECUTE FUNCTION {function}()"""
        )
        drop.append(f"DROP TRIGGER IF EXISTS coverage_line ON {table}")
        drop.append(f"DROP FUNCTION IF EXISTS {function}()")
    return create, drop


TRIGGERS = {"sqlite": _sqlite(), "postgresql": _postgresql()}
TABLES = (*BY_CHILD, CHILD, *BY_SCHOOL, *ORG)


def install_triggers(schema_editor) -> None:
    """Create the triggers for this engine (a migration's RunPython; safe to run again) and
    forget every stored line."""
    triggers.install(schema_editor, TRIGGERS, f"DELETE FROM {LINES}")


def drop_triggers(schema_editor) -> None:
    triggers.drop(schema_editor, TRIGGERS)


def trigger_names(conn) -> dict[str, set[str]]:
    return {table: triggers.names(conn, table) for table in TABLES}


def rules_key(codes: list[str] | None) -> str:
    """The due rules a line's 待联系 number counts ('*' every rule, else their codes), and the
    layout of its numbers (LAYOUT: a line stored by an older version is counted again)."""
    return f"{LAYOUT}:" + ("*" if codes is None else ",".join(sorted(codes)))


def _marks(db: str, school_of: dict[int, int]) -> dict[int, str]:
    """{class id: its changes so far} — count and largest id of the log's rows of the class,
    of its school, and of everything — in one grouped read of the log."""
    per_class: dict[int, str] = {}
    per_school: dict[int, str] = {}
    every = "0.0"
    rows = (
        CoverageChange.objects.using(db)
        .values_list("school_class_id", "school_id")
        .annotate(n=Count("id"), top=Max("id"))
        .order_by()
    )
    for class_id, school_id, n, top in rows:
        mark = f"{n}.{top}"
        if class_id is not None:
            per_class[class_id] = mark
        elif school_id is not None:
            per_school[school_id] = mark
        else:
            every = mark
    return {
        pk: f"{per_class.get(pk, '0.0')}/{per_school.get(school, '0.0')}/{every}"
        for pk, school in school_of.items()
    }


def lines(
    class_ids: list[int] | None,
    codes: list[str] | None,
    *,
    at_least: int = 0,
    stale_share: float = 1.0,
    keys: tuple[str, ...] = (),
) -> tuple[dict[int, dict[str, list[int]]], dict[int, int]] | None:
    """({class id: {"n": enrolled children, panel key: [done, total]}}, {class id: school
    id}) of the classes `class_ids` (None: every class) today under the due rules `codes`:
    the stored lines still valid, the others counted now and stored. None, without counting,
    when there are fewer than `at_least` classes or more than `stale_share` of them to count
    (a caller with a cheaper way for those: the due list). `keys`: of a stored line only
    these are read (None where it lacks one; the due list's "due" and "top": 21 ms for a
    town's 2,160 lines where the whole lines take 36–47)."""
    today = timezone.localdate()
    db = router.db_for_write(CoverageLine)
    rules = rules_key(codes)
    with reading_replica(False):
        classes = SchoolClass.objects.using(db)
        if class_ids is not None:
            classes = classes.filter(pk__in=class_ids)
        school_of = dict(classes.order_by().values_list("pk", "school_id"))
        if len(school_of) < at_least:
            return None
        marks = _marks(db, school_of)  # before counting: see the module's docstring
        stored = CoverageLine.objects.using(db).filter(day=today, rules=rules)
        if class_ids is not None:
            stored = stored.filter(pk__in=list(school_of))
        if keys:
            found = {
                pk: dict(zip(keys, values, strict=True))
                for pk, stamp, *values in stored.values_list(
                    "pk", "stamp", *(f"data__{key}" for key in keys)
                )
                if marks.get(pk) == stamp
            }
        else:
            found = {
                pk: data
                for pk, stamp, data in stored.values_list("pk", "stamp", "data")
                if marks.get(pk) == stamp
            }
        stale = [pk for pk in school_of if pk not in found]
        if len(stale) > stale_share * len(school_of):
            return None
        if stale:
            every = class_ids is None and len(stale) == len(school_of)
            counted = count(stale, codes, today, school_of, every=every, db=db)
            _store(counted, marks, today, rules, db)
            found |= counted
    return found, school_of


def count(
    class_ids: list[int],
    codes: list[str] | None,
    today: dt.date,
    school_of: dict[int, int],
    *,
    every: bool = False,
    db: str = "default",
) -> dict[int, dict[str, list[int]]]:
    """The lines of `class_ids` counted now, as `coverage.panels` counts a class's enrolled
    children (`every`: the classes are all there are, so no list of them in the SQL)."""
    from . import coverage, trends

    children = Child.objects.using(db).filter(enrolment=Enrolment.ENROLLED)
    if not every:
        children = children.filter(school_class_id__in=class_ids)
    units = coverage.Units(False, {}, [], school_ids={school_of[pk] for pk in class_ids})
    due = None if codes == [] else DueList(children, as_of=today, rule_codes=codes, item_keys=True)
    if due is not None:  # with each class's first children and items, in the same statement
        due.prepare_page(0, 0, firsts=FIRST_CHILDREN)
    firsts = due.firsts_per_class() if due is not None else {}
    kept_items = due.first_items_per_class() if due is not None else {}
    per_class_due: dict[int, list] = {}
    for _school, klass, n, counts in due.counts_per_class() if due else []:
        got = per_class_due.setdefault(klass, [0, {}])  # one class, whatever the cards' school
        got[0] += n
        for code, items in counts.items():
            got[1][code] = got[1].get(code, 0) + items
    panels = coverage.count_panels(codes, children, units, today, current_term(today), due)
    lists = every or len(class_ids) > LISTS_FROM
    points = trends.point_per_class(children, current_term(today), today, lists=lists)
    out: dict[int, dict[str, list[int]]] = {}
    for pk in class_ids:
        line: dict[str, list[int]] = {}
        for panel in panels:
            got = panel.lines.get(pk)
            line[panel.key] = [got.done, got.total] if got else [0, 0]
        point = points.get(pk) or dict.fromkeys(POINT_KEYS, 0)
        out[pk] = {
            "n": point["n"],
            **line,
            "point": point,  # type: ignore[dict-item]
            "due": per_class_due.get(pk, [0, {}]),  # type: ignore[dict-item]
        }
        first = places(firsts.get(pk, [])) if firsts is not None else None
        items = places(kept_items.get(pk, [])) if kept_items is not None else None
        if first is not None and items is not None:  # else unknown (too many rules): no
            # "top", no "first" (the class's first item is its first child's most overdue)
            out[pk]["top"] = first[0] if first else None  # type: ignore[assignment]
            out[pk]["first"] = first  # type: ignore[assignment]
            out[pk]["items"] = items  # type: ignore[assignment]
    return out


# A child's place in the due list as one number, its sort key (descending) and then its id: a
# class's first children are a list of numbers, stored as 64-bit integers (`pack`), read and
# merged quickly (for a town of 2,160 classes, the 63,000 children of every class in 26 ms
# on SQLite and 44 on PostgreSQL; as JSON pairs, 165–230 ms).
ID_BITS = 32
KEY_BITS = 30  # a sort key is days overdue × 1,000 less the rule's rank: 2,900 years of days


def places(firsts: list[tuple[int, int]]) -> list[int] | None:
    """The places of (sort key, child id) in the list's order (ascending places); None for a
    card id or a key too large to pack (then the class's children are unknown, as with too
    many rules)."""
    if any(
        not (0 <= child < 1 << ID_BITS and -(1 << KEY_BITS) < key < 1 << KEY_BITS)
        for key, child in firsts
    ):
        return None
    return [(-key << ID_BITS) | child for key, child in firsts]


def pack(places: list[int] | None) -> bytes | None:
    """Places as stored (`CoverageLine.first`): 64-bit integers, little-endian."""
    if places is None:
        return None
    packed = array("q", places)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def unpack(stored: bytes | memoryview | None) -> list[int] | None:
    if stored is None:
        return None
    places = array("q")
    places.frombytes(bytes(stored))
    if sys.byteorder == "big":
        places.byteswap()
    return places.tolist()


def child_at(place: int) -> int:
    return place & ((1 << ID_BITS) - 1)


def key_at(place: int) -> int:
    return -(place >> ID_BITS)


def _store(
    counted: dict[int, dict], marks: dict[int, str], today: dt.date, rules: str, db: str
) -> None:
    """Write the counted lines (in class order: two readers storing the same classes take
    their rows in the same order). A class deleted meanwhile, or any other failure, only
    leaves the lines for the next reader to count."""
    rows = [
        CoverageLine(
            school_class_id=pk,
            day=today,
            rules=rules,
            stamp=marks[pk],
            data={k: v for k, v in data.items() if k not in KEPT},
            first=pack(data.get("first")),
            items=pack(data.get("items")),
        )
        for pk, data in sorted(counted.items())
    ]
    try:
        with transaction.atomic(using=db):
            CoverageLine.objects.using(db).bulk_create(
                rows,
                batch_size=500,
                update_conflicts=True,
                unique_fields=["school_class"],
                update_fields=["day", "rules", "stamp", "data", *KEPT],
            )
    except DatabaseError:
        pass


def refresh() -> tuple[int, int]:
    """The worker, hourly: count every class whose line is out of date under a leader's rules
    (every rule), so that a leader reads stored lines — after midnight the whole county.
    The first time in a day it first removes the log's rows: no line of the day has seen
    them. How many classes are stored and log rows were removed."""
    today = timezone.localdate()
    db = router.db_for_write(CoverageLine)
    removed = 0
    if not CoverageLine.objects.using(db).filter(day=today).exists():
        removed, _ = CoverageChange.objects.using(db).all().delete()
        if removed:
            _vacuum_log(db)
    got = lines(None, None)
    return len(got[0]) if got else 0, removed


def _vacuum_log(db: str) -> None:
    """On PostgreSQL the removed rows stay in the table as dead rows until autovacuum comes
    by, and every reader's marks (a grouped read of the log) scan them: after the bench
    town's 1.7 million writes, 71 MB and 17–200 ms a request (with statistics that still
    counted 700,000 rows). So the round vacuums the log at once (not within a transaction:
    VACUUM cannot run in one). SQLite empties a table without a WHERE in one step."""
    conn = connections[db]
    if conn.vendor != "postgresql" or conn.in_atomic_block:
        return
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {LOG}")
    except DatabaseError:
        logger.warning("could not vacuum %s", LOG, exc_info=True)


NOT_PANELS = ("point", "due", "top", "first", "items")  # a line's keys that are not a panel


def per_unit(
    found: dict[int, dict[str, list[int]]], school_of: dict[int, int], per_school: bool
) -> dict[str, dict[int, list[int]]]:
    """{panel key: {unit id: [done, total]}} summed from the class lines (a unit: the class,
    or its school); units with nothing to count left out. "n" is the enrolled children."""
    out: dict[str, dict[int, list[int]]] = defaultdict(dict)
    for pk, line in found.items():
        unit = school_of[pk] if per_school else pk
        for key, value in line.items():
            if key in NOT_PANELS:
                continue
            if key == "n":
                value = [value, 0]  # type: ignore[list-item]
            if not any(value):
                continue
            got = out[key].setdefault(unit, [0, 0])
            got[0] += value[0]
            got[1] += value[1]
    return out


POINT_KEYS = (
    "n",
    "civil",
    "lb",
    "screening_of",
    "screening",
    "verification_of",
    "verification",
    "visits",
    "pairing",
    "proxy",
    *(f"c_{c}" for c in CATEGORIES),
)


_read: ContextVar[dict | None] = ContextVar("guanai_coverage_lines", default=None)


@contextmanager
def read_once() -> Iterator[None]:
    """Within this block (one dashboard request: its panels, then its running term's point),
    a user's class lines are read once."""
    token = _read.set({})
    try:
        yield
    finally:
        _read.reset(token)


def for_user(
    user, *, school: str | None = None, grade: int | None = None, class_no: int | None = None
) -> tuple[dict[int, dict], dict[int, int], list[str] | None] | None:
    """The class lines of the user's children today with the dashboard's filters, the school
    of each class and the user's due rules; None when the user's scope is not whole classes
    (children followed one by one outside their classes, a village's director by 村)."""
    memo = _read.get()
    key = (user.pk, school, grade, class_no)
    if memo is not None and key in memo:
        return memo[key]
    found = _for_user(user, school=school, grade=grade, class_no=class_no)
    if memo is not None:
        memo[key] = found
    return found


def _for_user(
    user, *, school: str | None, grade: int | None, class_no: int | None
) -> tuple[dict[int, dict], dict[int, int], list[str] | None] | None:
    from guanai.contacts.access import due_rule_codes

    from . import daycounts

    today = timezone.localdate()
    where = daycounts.class_where(school=school, grade=grade, class_no=class_no)
    found = daycounts.scope_classes(user, today, where, live=True)
    if found is None or found[1]:
        return None
    codes = due_rule_codes(user)
    got = lines(found[0], codes)
    assert got is not None  # no limits asked
    return (*got, codes)


def point(user, **where) -> dict[str, int] | None:
    """Today's counts of the running term's trend point (trends._counts) for the user and the
    dashboard's filters, summed from the class lines; None when only counting can say."""
    mine = for_user(user, **where)
    if mine is None:
        return None
    total = dict.fromkeys(POINT_KEYS, 0)
    for line in mine[0].values():
        for key, n in line["point"].items():
            total[key] += n
    return total


# The due list of a user who holds whole towns, not filtered to a school (a school's list is as
# quick without), takes its counts from the lines for at least this many classes, when at most
# this share of them must be counted again first (after a busy morning of contacts, the list's
# own pass is quicker).
DUE_FROM_CLASSES = 200
DUE_STALE_SHARE = 0.1
# Every page of the due page and of the API is read off the first children and items the
# lines keep, on every engine. Where those cannot say (a class's list cut short before the
# page), or when the page asked for is unknown, the list is ordered and cut: the latter only
# where that is quicker than its own pass (bench/stats.py's town, quiet, p50): SQLite's API
# 335 → 275 ms and page 425 → 337 ms; PostgreSQL's ordered cut is no quicker than its counted
# one and reading the lines adds to it (API 381 → 408, page 422 → 460).
DUE_ENGINES = {"sqlite"}


def use_due_counts(
    due: DueList,
    user,
    codes: list[str] | None,
    *,
    page_end: int | None = None,
    **where,
) -> bool:
    """Give the due list of the user's children today (the due page, the due API) its counts
    per class from the lines — children due and items per rule, counted by the same
    `DueList` for each class — so that it only orders and cuts its page, and its first
    children and items, so that any page is read off them (issue #19). Only for the user's
    own rules and a scope of whole classes filtered by grade or class; `page_end`: the
    children (the due page) or the items (the API) up to the end of the page asked for, None
    when unknown. Whether it did."""
    from guanai.accounts import scope
    from guanai.contacts.access import due_rule_codes

    from . import daycounts

    if connections[due.db].vendor not in DUE_ENGINES and page_end is None:
        return False
    if due.as_of != timezone.localdate() or codes != due_rule_codes(user):
        return False
    whole_towns = user.is_superuser or any(lv == scope.TOWN for lv, _ra in scope.units(user))
    if where.get("school") or not whole_towns:  # a school's list: its own pass is as quick
        return False
    today = timezone.localdate()
    scope = daycounts.scope_classes(user, today, daycounts.class_where(**where), live=True)
    if scope is None or scope[1]:
        return False
    got = lines(
        scope[0],
        codes,
        at_least=DUE_FROM_CLASSES,
        stale_share=DUE_STALE_SHARE,
        keys=("due", "top"),
    )
    if got is None:
        return False
    found, school_of = got
    due.use_counts([(school_of[pk], pk, *line["due"]) for pk, line in found.items()])
    db = router.db_for_write(CoverageLine)
    rules = rules_key(codes)
    due.use_first_children(
        lambda n: first_children(found, n, rules=rules, day=today, db=db),
        items_up_to=items_up_to(due.db),
        items=lambda n: first_items(found, n, rules=rules, day=today, db=db),
    )
    return True


# Per class, its first children due are kept (`CoverageLine.first`): two pages of 50, and
# every child due of a class of up to 100. The due page's children are read off them on any
# page (a class with more children due serves while its kept ones reach past the page). The
# API's items are, up to the FIRST_UP_TO-th item, the items of that many first children,
# their page cut in SQL; those cost more as the children grow, and more on PostgreSQL
# (bench/stats.py's town, SQLite / PostgreSQL: 1,000 children 34 / 41 ms, 2,000 49 / 101,
# 5,000 103 / 173, 20,000 616 / 1,497; the merge of the whole town 26 / 44 ms): past it the
# API orders the list.
FIRST_CHILDREN = 100
FIRST_UP_TO = {"sqlite": 5_000, "postgresql": 2_000}
# Per class, the items of those first children are kept too (`CoverageLine.items`; of a class
# with more children due, up to the last kept child's most overdue item): the API's page is
# merged from them on any page, and then only its own few children's items are read.
# bench/stats.py's town keeps every item of every class (at most 127 in a class, 144,000 in
# all): its 2,160 lines keep 1.7 MB of places, children and items.
# a line's lists of places, stored in their own columns (not in `data`)
KEPT = ("first", "items")


def items_up_to(db: str) -> int:
    """The API's items read off the first children on the database `db`: up to this many."""
    return FIRST_UP_TO.get(connections[db].vendor, 1_000)


def first_children(
    found: dict[int, dict], n: int, *, rules: str, day: dt.date, db: str
) -> list[int] | None:
    """The ids of the first `n` children due among the classes `found` (their lines), in the
    due page's order (sort key descending, then id), merged from each class's first children
    (`first_places`); None when the lines cannot say."""
    got = first_places(found, n, "first", rules=rules, day=day, db=db)
    return None if got is None else [child_at(place) for place in got]


def first_items(
    found: dict[int, dict], n: int, *, rules: str, day: dt.date, db: str
) -> list[tuple[int, int]] | None:
    """The first `n` items due among the classes `found`, in the API's order, as (sort key,
    child id) (`DueList.rule_of_key` names the rule), merged from each class's first items
    (`first_places`); None when the lines cannot say."""
    got = first_places(found, n, "items", rules=rules, day=day, db=db)
    return None if got is None else [(key_at(place), child_at(place)) for place in got]


def first_places(
    found: dict[int, dict], n: int, kept: str, *, rules: str, day: dt.date, db: str
) -> list[int] | None:
    """The places of the first `n` children (`kept` "first") or items ("items") due among the
    classes `found`, merged from each class's own first ones: the classes are read in the
    order of their own first place (a class's first item is its first child's most overdue,
    `data["top"]` for both), and no more once `n` are known that come before the next
    class's first. A class whose list is cut short (more due than kept) serves if its last
    kept place is not before the n-th: its others come after it. None when a class read
    cannot say (counted with too many rules, its line gone, or its list cut short before the
    n-th place)."""
    order = []
    for pk, line in found.items():
        if line.get("top") is not None:
            order.append((line["top"], pk))
        elif line["due"][0]:  # children due, but none kept: counted with too many rules
            return None
    order.sort()
    best: list[int] = []  # the places of the first n so far
    cut = None  # the earliest last place of a list cut short: nothing of its class is known after
    start, batch = 0, 4
    while start < len(order):
        if len(best) >= n and best[n - 1] < order[start][0]:
            break
        chunk = [pk for _top, pk in order[start : start + batch]]
        start, batch = start + batch, batch * 2
        # a line counted in this request has its lists with it; a stored one's are read
        lists = {pk: found[pk][kept] for pk in chunk if kept in found[pk]}
        wanted = [pk for pk in chunk if pk not in lists]
        if wanted:
            lists.update(_stored_places(db, kept, wanted, day, rules))
        for pk in chunk:
            first = lists.get(pk)
            if not first:  # its line gone, or kept by another layout
                return None
            if len(first) < _due_of(found[pk], kept):
                cut = first[-1] if cut is None else min(cut, first[-1])
            best.extend(first)
        best.sort()
        del best[n:]
    if cut is not None and (len(best) < n or best[n - 1] > cut):
        return None
    return best


def _due_of(line: dict, kept: str) -> int:
    """A line's children due ("first") or items due ("items")."""
    children, per_rule = line["due"]
    return children if kept == "first" else sum(per_rule.values())


def _stored_places(db: str, kept: str, pks: list[int], day: dt.date, rules: str) -> Iterator[tuple]:
    """(class id, its first children's or items' places: the column `kept`) of the stored
    lines `pks`: read plainly, not through the ORM."""
    assert kept in KEPT
    table = CoverageLine._meta.db_table
    if connections[db].vendor == "postgresql":  # one array: psycopg's formatting of 2,000
        among, ids = "= ANY(%s)", [list(pks)]  # parameters took 20 of a read's 32 ms
    else:
        among, ids = f"IN ({', '.join(['%s'] * len(pks))})", list(pks)
    with connections[db].cursor() as cursor:
        cursor.execute(
            f"SELECT school_class_id, {kept} FROM {table}"
            f" WHERE day = %s AND rules = %s AND school_class_id {among}",
            [day, rules, *ids],
        )
        for pk, first in cursor.fetchall():
            yield pk, unpack(first)
