"""Statistics at county scale: the summary API, the dashboard and the term report.

    .venv/bin/python bench/stats.py                  # 100,000 children, 1,000,000 contacts
    BENCH_CHILDREN=20000 BENCH_CONTACTS=100000 .venv/bin/python bench/stats.py   # quicker
    (BENCH_SCHOOLS schools (40), BENCH_REQUESTS requests per case (20), BENCH_DATA_DIR=dir
    keeps the SQLite database there and reuses it on the next run, BENCH_DATABASE_URL=
    postgres://… runs on an empty PostgreSQL database instead of SQLite)

Builds a fresh database with raw `executemany` (bench/contacts.py's `insert_rows`): one town of
BENCH_SCHOOLS schools, children with both parents, a guardian, birth dates, gender, boarding
and village (a few percent left blank, as in real registers), one creation row of history for
each card, parent and guardian (so "as of" a past date has history to read), and a year of
contacts; then (`seed_work`, once per database, also into a database built before it) the work
the coverage panels and trends count: four terms of screening campaigns and verification rounds
in every school, pairs and proxy parents. Then times, as the town administrator through
django.test.Client:
GET /api/v1/stats/summary (town, one school, one school's grade, and as of a past date), the
dashboard /stats/ (town, one school, one grade, and as of a past date), the term report page
for one school, and the due list (API and page, town and one school: with this town's proxy
parents, which bench/due_list.py's town lacks); before them the counts stored per class of a past day (stats/daycounts.py):
the time to fill a day, the table's size, and the history pass they replace.
BENCH_PANELS=0 leaves out the coverage panels, the trends and the term report; BENCH_FILL=0
the timing of a day's fill and of the history pass.
The dashboard includes the coverage panels (stats/coverage.py) and the trends per term
(stats/trends.py); each of those is also timed on its own (the panel functions, as the
dashboard calls them; the six panels counted now, summed from the lines stored per class with
every class counted first, one class written since, or all stored, stats/covstore.py; the
trends with the past terms' points stored, stats/termstore.py, and counted afresh). Prints p50/p95 and the process's peak RSS.

    BENCH_DEMO=1 .venv/bin/python bench/stats.py     # the demo town instead (about 1,200
                                                     # children, its campaigns, rounds, pairs)
"""

import datetime as dt
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.contacts import KINDS, insert_rows, night_round, p95, rss_mb, timed

N_CHILDREN = int(os.environ.get("BENCH_CHILDREN", "100000"))
N_CONTACTS = int(os.environ.get("BENCH_CONTACTS", "1000000"))
N_SCHOOLS = int(os.environ.get("BENCH_SCHOOLS", "40"))
N_REQUESTS = int(os.environ.get("BENCH_REQUESTS", "20"))
STATUSES = [("away", 45), ("home", 45), ("deceased", 2), ("incapable", 3), ("", 5)]
RELATIONS = ["祖父", "祖母", "外祖父", "外祖母", "伯父", "母亲", ""]


def setup_django() -> Path:
    """A fresh SQLite database under a temporary data dir, or BENCH_DATA_DIR (kept, and reused
    when it already holds the bench's town), or BENCH_DATABASE_URL."""
    import tempfile

    os.environ.pop("DATABASE_URL", None)
    kept = os.environ.get("BENCH_DATA_DIR")
    data_dir = Path(kept) if kept else Path(tempfile.mkdtemp(prefix="guanai-bench-stats-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["GUANAI_DATA_DIR"] = str(data_dir)
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def build(rng: random.Random):
    from django.db import transaction
    from django.utils import timezone

    from guanai.accounts.models import Role, RoleAssignment, User
    from guanai.children.models import Child, Guardian, Parent
    from guanai.contacts.models import Contact
    from guanai.org.models import School, SchoolClass, Town

    now = timezone.now()
    today = timezone.localdate()
    town = Town.objects.create(name="县城镇")
    schools = School.objects.bulk_create(
        School(town=town, code=f"S{i:02d}", name=f"第{i}小学") for i in range(1, N_SCHOOLS + 1)
    )
    per_school = max(1, N_CHILDREN // N_SCHOOLS)
    per_grade = max(1, round(per_school / 6 / 45))
    classes = SchoolClass.objects.bulk_create(
        SchoolClass(school=s, grade=g, class_no=c)
        for s in schools
        for g in range(1, 7)
        for c in range(1, per_grade + 1)
    )
    by_school: dict[int, list] = {}
    for c in classes:
        by_school.setdefault(c.school_id, []).append(c)
    admin = User.objects.create(username="bench_town", display_name="镇管理员")
    RoleAssignment.objects.create(user=admin, role=Role.TOWN_ADMIN, town=town)
    teachers = User.objects.bulk_create(
        User(username=f"bench_t{i}", display_name=f"老师{i}") for i in range(200)
    )
    statuses, weights = zip(*STATUSES, strict=True)
    t0 = time.perf_counter()
    created = now - dt.timedelta(days=400)
    history = {"history_date": created, "history_type": "+", "history_change_reason": None}
    with transaction.atomic():
        children = []
        for i in range(N_CHILDREN):
            school = schools[i % N_SCHOOLS]
            klass = rng.choice(by_school[school.pk])
            father, mother = rng.choices(statuses, weights, k=2)
            if not father or not mother:
                category = "unknown"
            elif father == "away" and mother == "away":
                category = "double"
            elif "away" in (father, mother):
                category = "single" if "home" in (father, mother) else "double"
            else:
                category = "none"
            age = 6 + klass.grade + rng.choice((-1, 0, 0, 0, 1))
            birth = today - dt.timedelta(days=365 * age + rng.randrange(365))
            children.append(
                {
                    "school_id": school.pk,
                    "school_class_id": klass.pk,
                    "name": f"学生{i}",
                    "student_no_enc": f"B{i:08d}",
                    "gender": rng.choice(("male", "female")) if rng.random() > 0.02 else "",
                    "birth_date": birth if rng.random() > 0.03 else None,
                    "village": f"第{rng.randrange(30)}村" if rng.random() > 0.05 else "",
                    "hukou": "rural",
                    "boarding": rng.choice((True, False, None)),
                    "category": category,
                    "civil_affairs": category == "double" and age < 16,
                    "created_at": created,
                    "updated_at": created,
                    "tags": [],
                    "_father": father,
                    "_mother": mother,
                }
            )
        plain = [{k: v for k, v in c.items() if not k.startswith("_")} for c in children]
        insert_rows(Child, plain, {})
        ids = list(Child.objects.order_by("pk").values_list("pk", flat=True))
        insert_rows(
            Child.history.model,
            [{**row, "id": pk, **history} for row, pk in zip(plain, ids, strict=True)],
            {},
        )
        parents, guardians = [], []
        for row, pk in zip(children, ids, strict=True):
            for relation, key in (("father", "_father"), ("mother", "_mother")):
                parents.append(
                    {"child_id": pk, "relation": relation, "status": row[key], "name": "家长"}
                )
            relation = rng.choice(RELATIONS)
            guardians.append(
                {
                    "child_id": pk,
                    "name": "监护人" if relation else "",
                    "relation": relation,
                    "phone": "13812345678" if rng.random() > 0.05 else "",
                }
            )
        dates = {"effective_from": created.date(), "updated_at": created}
        insert_rows(Parent, parents, dates)
        insert_rows(Guardian, guardians, dates)
        parent_ids = list(Parent.objects.order_by("pk").values_list("pk", flat=True))
        guardian_ids = list(Guardian.objects.order_by("pk").values_list("pk", flat=True))
        insert_rows(
            Parent.history.model,
            [
                {**p, "id": pk, "effective_from": created.date(), **history}
                for p, pk in zip(parents, parent_ids, strict=True)
            ],
            {},
        )
        insert_rows(
            Guardian.history.model,
            [
                {**g, "id": pk, "effective_from": created.date(), **history}
                for g, pk in zip(guardians, guardian_ids, strict=True)
            ],
            {},
        )
    t_children = time.perf_counter() - t0
    kinds, kind_weights = zip(*KINDS, strict=True)
    t0 = time.perf_counter()
    with transaction.atomic():
        for start in range(0, N_CONTACTS, 100_000):
            n = min(100_000, N_CONTACTS - start)
            rows = []
            for child_id, kind in zip(
                rng.choices(ids, k=n), rng.choices(kinds, kind_weights, k=n), strict=True
            ):
                at = now - dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
                rows.append(
                    {
                        "child_id": child_id,
                        "kind": kind,
                        "at": at,
                        "by_id": rng.choice(teachers).pk,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
            insert_rows(Contact, rows, {})
    t_contacts = time.perf_counter() - t0
    return admin, schools, t_children, t_contacts


def main() -> None:
    data_dir = setup_django()
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    rng = random.Random(1)
    if not os.environ.get("BENCH_DEMO"):
        print(
            f"building {N_CHILDREN:,} children (with parents, guardians and history) in "
            f"{N_SCHOOLS} schools and {N_CONTACTS:,} contacts on {connection.vendor} …"
        )
    from guanai.accounts.models import User
    from guanai.org.models import School

    if os.environ.get("BENCH_DEMO"):
        from guanai.org.demo import load_demo

        t0 = time.perf_counter()
        load_demo()
        print(f"  demo town loaded in {time.perf_counter() - t0:.1f} s")
        admin, schools = User.objects.get(username="town"), list(School.objects.all())
    elif School.objects.filter(code="S01").exists():
        print("  reusing the database in BENCH_DATA_DIR")
        admin, schools = User.objects.get(username="bench_town"), list(School.objects.all())
    else:
        admin, schools, t_children, t_contacts = build(rng)
        print(
            f"  cards {t_children:6.1f} s, contacts {t_contacts:6.1f} s, "
            f"peak RSS so far {rss_mb():.0f} MB"
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    if seed_work(rng, admin):  # the planner's statistics must see the new rows
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    client = Client()
    client.force_login(admin)
    school = schools[0].code
    past_day = timezone.localdate() - dt.timedelta(days=30)
    past = past_day.isoformat()
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f}")
    if os.environ.get("BENCH_FILL", "1") != "0":  # BENCH_FILL=0: the day's rows only
        time_day_counts(admin, past_day, school)
    else:
        from guanai.stats.daycounts import fill_day

        fill_day(past_day)
    panels = os.environ.get("BENCH_PANELS", "1") != "0"
    cases = [
        ("summary, whole town        GET /api/v1/stats/summary", "/api/v1/stats/summary", {}),
        ("summary, one school        ?school=", "/api/v1/stats/summary", {"school": school}),
        (
            "summary, one grade         ?school=&grade=3",
            "/api/v1/stats/summary",
            {"school": school, "grade": 3},
        ),
        ("summary, town, 30 days ago ?as_of=", "/api/v1/stats/summary", {"as_of": past}),
        (
            "summary, school, 30 days ago",
            "/api/v1/stats/summary",
            {"as_of": past, "school": school},
        ),
        (
            "summary, grade, 30 days ago",
            "/api/v1/stats/summary",
            {"as_of": past, "school": school, "grade": 3},
        ),
        ("dashboard, whole town      GET /stats/", "/stats/", {}),
        ("dashboard, town + coverage &coverage=1", "/stats/", {"coverage": 1}),
        # what the town's page fetches right after it is shown (htmx): the panels and trends
        (
            "town's coverage, fetched  &part=coverage",
            "/stats/",
            {"coverage": 1, "part": "coverage"},
        ),
        ("dashboard, one school      /stats/?school=", "/stats/", {"school": school}),
        ("dashboard, one grade       &grade=3", "/stats/", {"school": school, "grade": 3}),
        ("dashboard, town 30 days ago &as_of=", "/stats/", {"as_of": past}),
        ("dashboard, school 30 days ago", "/stats/", {"as_of": past, "school": school}),
        ("term report, one school    /stats/report/?school=", "/stats/report/", {"school": school}),
        # the due list with this town's 13,000 proxy parents (bench/due_list.py's town has none)
        ("due API, whole town        /api/v1/contacts/due", "/api/v1/contacts/due", {}),
        ("due page, whole town       /contacts/due/", "/contacts/due/", {}),
        # later pages: the page's children merged from the classes' first children, the API's
        # items from the classes' first items, on any page (before issue #19's ninth session,
        # the API's items up to the 5,000th on SQLite, page 100, and the 2,000th on
        # PostgreSQL, page 40, were read off as many children; past it cut or the own pass)
        ("due API, town, page 3      &page=3", "/api/v1/contacts/due", {"page": 3}),
        ("due page, town, page 3     ?page=3", "/contacts/due/", {"page": 3}),
        ("due API, town, page 11     &page=11", "/api/v1/contacts/due", {"page": 11}),
        ("due page, town, page 11    ?page=11", "/contacts/due/", {"page": 11}),
        ("due API, town, page 40     &page=40", "/api/v1/contacts/due", {"page": 40}),
        ("due API, town, page 41     &page=41", "/api/v1/contacts/due", {"page": 41}),
        ("due API, town, page 100    &page=100", "/api/v1/contacts/due", {"page": 100}),
        ("due API, town, page 101    &page=101", "/api/v1/contacts/due", {"page": 101}),
        ("due API, town, page 1000   &page=1000", "/api/v1/contacts/due", {"page": 1000}),
        ("due API, town, last page   &page=last", "/api/v1/contacts/due", {"page": "last"}),
        ("due page, town, page 100   ?page=100", "/contacts/due/", {"page": 100}),
        ("due page, town, page 1000  ?page=1000", "/contacts/due/", {"page": 1000}),
        ("due page, one school       /contacts/due/?school=", "/contacts/due/", {"school": school}),
    ]
    if not panels:  # BENCH_PANELS=0: the counts only (the panels take minutes at a town)
        cases = [c for c in cases if "coverage" not in c[0] and "report" not in c[0]]
    night_round()
    import guanai.wsgi  # noqa: F401  (as a web process starts: its objects frozen, wsgi.settle)

    width = max(len(label) for label, _url, _params in cases)
    print(f"{N_REQUESTS} requests each (first one warms caches):")
    for label, url, params in cases:
        if params.get("page") == "last":
            items = client.get(url).json()["count"]
            params = {"page": max(1, -(-items // 50))}
            label = f"{label} ({params['page']:,}: {items:,} items)"
        client.get(url, params)
        n = N_REQUESTS if "report" not in url else max(3, N_REQUESTS // 4)
        times, response = timed(client, url, params, n)
        extra = ""
        if url == "/api/v1/stats/summary":
            extra = f"  ({response.json()['children']:,} children)"
        print(
            f"  {label:<{width}} p50 {statistics.median(times) * 1000:7.0f} ms"
            f"  p95 {p95(times) * 1000:7.0f} ms{extra}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f}")
    if panels:
        time_panels(admin, schools[0])
    print(f"peak RSS {rss_mb():.0f} MB (build included)")
    connection.close()
    if not os.environ.get("BENCH_DATA_DIR"):
        shutil.rmtree(data_dir, ignore_errors=True)


def seed_work(rng: random.Random, admin) -> bool:
    """The term's work the coverage panels and trends count, once per database: a screening
    campaign and a verification round in each school for this term and the last three (about
    80 % of the children screened, 60 % verified), active and ended pairs for a third of the
    left-behind children, proxy parents for a fifth. Skipped when campaigns exist already;
    whether it seeded."""
    from django.db import transaction
    from django.utils import timezone

    from guanai.accounts.models import User
    from guanai.children.models import AssignmentKind, Child, ChildAssignment
    from guanai.lib.dates import current_term, term_bounds
    from guanai.pairing.models import Pair, PairStatus
    from guanai.screening.models import (
        CardVerification,
        ScreeningCampaign,
        ScreeningRecord,
        VerificationRound,
    )

    if ScreeningCampaign.objects.exists():
        return False
    t0 = time.perf_counter()
    today = timezone.localdate()
    terms, day = [], today
    for _ in range(4):
        term = current_term(day)
        start, end = term_bounds(term)
        terms.append((term, start, min(end, today)))
        day = start - dt.timedelta(days=1)
    cards = list(Child.objects.values_list("pk", "school_id", "category"))
    by_school: dict[int, list[int]] = {}
    for pk, school_id, _cat in cards:
        by_school.setdefault(school_id, []).append(pk)
    left = [(pk, s) for pk, s, cat in cards if cat in ("single", "double")]
    tz = timezone.get_current_timezone()

    def at(start: dt.date, end: dt.date) -> dt.datetime:
        day = start + dt.timedelta(days=rng.randrange(max(1, (end - start).days + 1)))
        return dt.datetime.combine(day, dt.time(9 + rng.randrange(8)), tzinfo=tz)

    with transaction.atomic():
        for term, start, end in terms:
            campaigns = ScreeningCampaign.objects.bulk_create(
                ScreeningCampaign(school_id=s, term=term, started_by=admin) for s in by_school
            )
            rounds = VerificationRound.objects.bulk_create(
                VerificationRound(
                    school_id=s, term=term, vacation="winter", deadline=end, created_by=admin
                )
                for s in by_school
            )
            records, checks = [], []
            for c, r in zip(campaigns, rounds, strict=True):
                for pk in by_school[c.school_id]:
                    if rng.random() < 0.8:
                        records.append(
                            ScreeningRecord(
                                campaign=c,
                                child_id=pk,
                                outcome="marked",
                                category="none",
                                screened_at=at(start, end),
                            )
                        )
                    if rng.random() < 0.6:
                        checks.append(
                            CardVerification(
                                round=r, child_id=pk, result="confirmed", verified_at=at(start, end)
                            )
                        )
            ScreeningRecord.objects.bulk_create(records, batch_size=5000)
            CardVerification.objects.bulk_create(checks, batch_size=5000)
        first = terms[-1][1]
        buddies = {s: rng.sample(pks, min(len(pks), 400)) for s, pks in by_school.items()}
        pairs, used = [], set()
        for pk, s in rng.sample(left, len(left) // 3):
            buddy = buddies[s].pop() if buddies[s] else None
            if buddy is None or buddy == pk or buddy in used:
                continue
            used.add(buddy)
            accepted = at(first, today)
            ended = rng.random() < 0.3
            pairs.append(
                Pair(
                    child_id=pk,
                    buddy_id=buddy,
                    school_id=s,
                    status=PairStatus.ENDED if ended else PairStatus.ACTIVE,
                    cost=0,
                    age_gap_days=0,
                    accepted_at=accepted,
                    ended_at=accepted + dt.timedelta(days=60) if ended else None,
                )
            )
        Pair.objects.bulk_create(pairs, batch_size=5000)
        proxies = User.objects.bulk_create(
            User(username=f"bench_p{i}", display_name=f"代理家长{i}") for i in range(300)
        )
        assignments = []
        for pk, _s in rng.sample(left, len(left) // 5):
            since = at(first, today).date()
            assignments.append(
                ChildAssignment(
                    user=rng.choice(proxies),
                    child_id=pk,
                    kind=AssignmentKind.PROXY_PARENT,
                    valid_from=since,
                    valid_to=since + dt.timedelta(days=120) if rng.random() < 0.3 else None,
                )
            )
        ChildAssignment.objects.bulk_create(assignments, batch_size=5000)
    print(
        f"  work seeded in {time.perf_counter() - t0:.1f} s: 4 terms of campaigns and rounds, "
        f"{len(pairs):,} pairs, {len(assignments):,} proxy assignments"
    )
    return True


def time_day_counts(admin, day: dt.date, school: str) -> None:
    """The stored counts per class (stats/daycounts.py): the time to fill a day, the table's
    size, and the history pass they replace for a past date."""
    from django.db import connection

    from guanai.stats import daycounts, services
    from guanai.stats.models import CountedDay, DayCount

    n = max(3, N_REQUESTS // 4)
    fills = []
    for back in range(n):  # days not stored yet (the first request for a day pays this)
        other = day - dt.timedelta(days=1 + back)
        CountedDay.objects.filter(day=other).delete()
        DayCount.objects.filter(day=other).delete()
        t0 = time.perf_counter()
        done = daycounts.fill_day(other)
        fills.append(time.perf_counter() - t0)
    daycounts.fill_day(day)
    rows = DayCount.objects.filter(day=day)
    size = sum(len(str(c)) for c in rows.values_list("counts", flat=True))
    print(
        f"day counts: fill one day p50 {statistics.median(fills) * 1000:.0f} ms "
        f"p95 {p95(fills) * 1000:.0f} ms ({done.classes} classes, {done.children:,} children); "
        f"{rows.count()} rows a day, counts {size / 1024:.0f} KB a day as JSON text"
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size('stats_daycount')")
            total = cursor.fetchone()[0]
        days = DayCount.objects.values("day").distinct().count()
        print(f"  stats_daycount on disk {total / 1024:.0f} KB for {days} days (indexes included)")
    for label, where in (("town", {}), ("school", {"school": school})):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            services.summary(admin, as_of=day, stored=False, **where)
            times.append(time.perf_counter() - t0)
        print(
            f"  history pass instead (stored=False), summary {label}: "
            f"p50 {statistics.median(times) * 1000:.0f} ms  max {max(times) * 1000:.0f} ms"
        )


def _panel_cases(admin, unit, today: dt.date) -> dict:
    from guanai.stats import coverage, services
    from guanai.stats.views import coverage_tables, trend_tables

    children = services.rows(admin, bare=True, school=unit.school.code if unit.school else None)
    per_school = unit.school is None
    units = coverage._units(children, per_school)
    term = coverage.current_term(today)
    return {
        "units (names)": lambda: coverage._units(children, per_school),
        "摸底排查 screening": lambda: coverage.screening_panel(children, units, term),
        "核实 verification": lambda: coverage.verification_panel(children, units, term),
        "普访 home visits": lambda: coverage.visit_panel(children, units, today),
        "待联系 due": lambda: coverage.due_panel(admin, children, units, today),
        "结对 pairing": lambda: coverage.pairing_panel(children, units),
        "代理家长 proxies": lambda: coverage.proxy_panel(children, units, today),
        "six panels, counted now": lambda: coverage.panels(admin, children, per_school=per_school),
        "six panels, every line counted": lambda: _lines_counted(coverage, admin, unit, children),
        "six panels, one class written": lambda: _one_class_written(
            coverage, admin, unit, children
        ),
        "six panels, lines stored": lambda: _stored(coverage, admin, unit, children),
        "all six panels (tables)": lambda: coverage_tables(admin, unit, as_of=today, today=today),
        "trends, 4 terms, stored": lambda: trend_tables(admin, unit, as_of=today),
        "trends, 4 terms, counted": lambda: _counted(trend_tables, admin, unit, today),
    }


def _stored(coverage, admin, unit, children):
    """The panels summed from the lines stored per class (stats/covstore.py)."""
    school = unit.school.code if unit.school else None
    return coverage.stored_panels(admin, children, per_school=school is None, school=school)


def _lines_counted(coverage, admin, unit, children):
    """The first request of the day (before the worker's round): every class counted, and its
    line stored."""
    from guanai.stats.models import CoverageLine

    CoverageLine.objects.all().delete()
    return _stored(coverage, admin, unit, children)


def _one_class_written(coverage, admin, unit, children):
    """A request after a write into one class (a contact, a record): that class counted."""
    from guanai.stats.models import CoverageChange

    klass = children.order_by("school_class_id").values_list("school_class_id", flat=True)[0]
    CoverageChange.objects.create(school_class_id=klass)  # what the write's trigger adds
    return _stored(coverage, admin, unit, children)


def _counted(trend_tables, admin, unit, today: dt.date):
    """The trends with no stored point of a past term (the first request after a write into
    that term, or before stats/termstore.py): every term counted."""
    from guanai.stats.models import TermPoint

    TermPoint.objects.all().delete()
    return trend_tables(admin, unit, as_of=today)


def time_panels(admin, school) -> None:
    """Each coverage panel and the trends on their own, for the whole town and one school."""
    from django.utils import timezone

    from guanai.accounts import scope
    from guanai.stats.views import Unit

    today = timezone.localdate()
    schools = list(scope.schools(admin, "view"))
    n = max(3, N_REQUESTS // 4)
    print(f"coverage panels and trends on their own ({n} runs each):")
    for level, unit in (("town", Unit(schools=schools)), ("school", Unit(school, schools=schools))):
        cases = _panel_cases(admin, unit, today)
        for label, run in cases.items():
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                run()
                times.append(time.perf_counter() - t0)
            print(
                f"  {level:<6} {label:<26} p50 {statistics.median(times) * 1000:7.0f} ms"
                f"  p95 {p95(times) * 1000:7.0f} ms"
            )


if __name__ == "__main__":
    main()
