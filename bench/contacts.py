"""Due/overdue list and 普访 coverage over a county-sized contact log.

    .venv/bin/python bench/contacts.py                       # 1,000,000 contacts, 100,000 children
    BENCH_CONTACTS=200000 BENCH_CHILDREN=20000 .venv/bin/python bench/contacts.py   # quicker
    (BENCH_SCHOOLS schools (40), BENCH_REQUESTS requests per endpoint (20), BENCH_KEEP=1 keeps
    the database, BENCH_DATABASE_URL=postgres://… runs on an empty PostgreSQL database instead)

Builds a fresh database (SQLite under a temporary GUANAI_DATA_DIR unless BENCH_DATABASE_URL):
one town of BENCH_SCHOOLS schools, children (~40 % left-behind) and a year of contacts written
with raw `executemany` in one transaction per table (home visits 15 %, calls 35 %, messages 20 %,
family calls 20 % …; left-behind children three times as likely to be contacted). Then times
requests through django.test.Client as the town administrator: GET /api/v1/contacts/due for one
school and for the whole town, the coverage page (/contacts/coverage/) and the coverage of the
town's 普访 round (GET /api/v1/visit-rounds/{id}/coverage) for one school and the town, and the
first page of GET /api/v1/contacts for the town. Prints p50/p95 and peak memory (process peak
RSS, and the Python heap peak of one town-wide due list under tracemalloc).
"""

import datetime as dt
import os
import random
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N_CHILDREN = int(os.environ.get("BENCH_CHILDREN", "100000"))
N_CONTACTS = int(os.environ.get("BENCH_CONTACTS", "1000000"))
N_SCHOOLS = int(os.environ.get("BENCH_SCHOOLS", "40"))
N_REQUESTS = int(os.environ.get("BENCH_REQUESTS", "20"))
BATCH = 20000
KINDS = [
    ("home_visit", 15),
    ("phone", 35),
    ("message", 20),
    ("family_call", 20),
    ("video", 5),
    ("meeting", 3),
    ("letter", 2),
]
CATEGORIES = [("single", 25), ("double", 15), ("migrant", 5), ("none", 50), ("unknown", 5)]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django() -> Path:
    os.environ.pop("DATABASE_URL", None)
    data_dir = Path(tempfile.mkdtemp(prefix="guanai-bench-contacts-"))
    os.environ["GUANAI_DATA_DIR"] = str(data_dir)
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def insert_rows(model, rows: list[dict], defaults: dict) -> None:
    """Raw executemany of full rows: every concrete column, Django's defaults filled in."""
    from django.db import connection

    fields = [f for f in model._meta.local_concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks})"
    base = {}
    for f in fields:
        if f.attname in defaults:
            base[f.attname] = defaults[f.attname]
        elif f.has_default():
            base[f.attname] = f.get_default()
        else:
            base[f.attname] = "" if f.empty_strings_allowed and not f.null else None
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            params = []
            for row in rows[start : start + BATCH]:
                values = base | row
                params.append([f.get_db_prep_save(values[f.attname], connection) for f in fields])
            cursor.executemany(sql, params)


def build(rng: random.Random):
    from django.db import transaction
    from django.utils import timezone

    from guanai.accounts.models import Role, RoleAssignment, User
    from guanai.children.models import Child
    from guanai.contacts.models import Contact, VisitRound
    from guanai.contacts.rules import term_start
    from guanai.org.models import School, SchoolClass, Town

    now = timezone.now()
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
    codes, weights = zip(*CATEGORIES, strict=True)
    t0 = time.perf_counter()
    with transaction.atomic():
        rows = []
        for i in range(N_CHILDREN):
            school = schools[i % N_SCHOOLS]
            klass = rng.choice(by_school[school.pk])
            created = now - dt.timedelta(days=rng.randrange(30, 900))
            rows.append(
                {
                    "school_id": school.pk,
                    "school_class_id": klass.pk,
                    "name": f"学生{i}",
                    "student_no": f"B{i:08d}",
                    "category": rng.choices(codes, weights)[0],
                    "created_at": created,
                    "updated_at": created,
                    "tags": [],
                }
            )
        insert_rows(Child, rows, {})
    t_children = time.perf_counter() - t0
    child_rows = list(Child.objects.values_list("pk", "category"))
    ids = [pk for pk, _c in child_rows]
    child_weights = [3 if cat in ("single", "double") else 1 for _pk, cat in child_rows]
    kinds, kind_weights = zip(*KINDS, strict=True)
    t0 = time.perf_counter()
    with transaction.atomic():
        for start in range(0, N_CONTACTS, 100_000):
            n = min(100_000, N_CONTACTS - start)
            picked = rng.choices(ids, child_weights, k=n)
            kinds_picked = rng.choices(kinds, kind_weights, k=n)
            rows = []
            for child_id, kind in zip(picked, kinds_picked, strict=True):
                at = now - dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
                rows.append(
                    {
                        "child_id": child_id,
                        "kind": kind,
                        "at": at,
                        "by_id": rng.choice(teachers).pk,
                        "with_whom": "祖母",
                        "created_at": at,
                        "updated_at": at,
                    }
                )
            insert_rows(Contact, rows, {})
    t_contacts = time.perf_counter() - t0
    today = timezone.localdate()
    visit_round = VisitRound.objects.create(
        town=town, name="本学期普访", since=term_start(today), until=today, created_by=admin
    )
    return admin, schools, visit_round, t_children, t_contacts


def night_round() -> None:
    """What the worker does after midnight, before the first leader asks: its first round of
    the day empties the log of writes (a build of 1,000,000 contacts wrote as many rows) and
    counts every class's line (stats/covstore.py), which the dashboards and a town's due list
    read. Prints what it took."""
    from guanai.stats import covstore
    from guanai.stats.models import CoverageLine

    CoverageLine.objects.all().delete()  # after midnight: no line of the new day yet
    began = time.perf_counter()
    counted, removed = covstore.refresh()
    print(
        f"the worker's first round of the day: {counted:,} classes counted, {removed:,} log"
        f" rows removed, {(time.perf_counter() - began) * 1000:,.0f} ms"
    )


def timed(client, url: str, params: dict, n: int) -> tuple[list[float], object]:
    times, response = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url, params)
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, (url, response.status_code)
    return times, response


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    data_dir = setup_django()
    from django.db import connection
    from django.test import Client

    rng = random.Random(1)
    print(
        f"building {N_CHILDREN:,} children in {N_SCHOOLS} schools and {N_CONTACTS:,} contacts "
        f"on {connection.vendor} …"
    )
    admin, schools, visit_round, t_children, t_contacts = build(rng)
    print(
        f"  children {t_children:6.1f} s ({N_CHILDREN / t_children:,.0f} rows/s), "
        f"contacts {t_contacts:6.1f} s ({N_CONTACTS / t_contacts:,.0f} rows/s), "
        f"peak RSS so far {rss_mb():.0f} MB"
    )
    with connection.cursor() as cursor:
        # what autovacuum (PostgreSQL) or `guanai`'s periodic optimize would have done by now
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    client = Client()
    client.force_login(admin)
    school = schools[0].code
    round_url = f"/api/v1/visit-rounds/{visit_round.pk}/coverage"
    cases = [
        (
            "due list, one school    GET /api/v1/contacts/due?school=",
            "/api/v1/contacts/due",
            {"school": school},
        ),
        ("due list, whole town    GET /api/v1/contacts/due", "/api/v1/contacts/due", {}),
        (
            "coverage, one school    GET /contacts/coverage/?school=",
            "/contacts/coverage/",
            {"school": school},
        ),
        ("coverage, whole town    GET /contacts/coverage/", "/contacts/coverage/", {}),
        (
            "round, one school       GET /api/v1/visit-rounds/N/coverage?school=",
            round_url,
            {"school": school},
        ),
        ("round, whole town       GET /api/v1/visit-rounds/N/coverage", round_url, {}),
        ("contact list, town p.1  GET /api/v1/contacts", "/api/v1/contacts", {}),
    ]
    width = max(len(label) for label, _url, _params in cases)
    print(f"{N_REQUESTS} requests each (first one warms caches):")
    for label, url, params in cases:
        client.get(url, params)
        times, response = timed(client, url, params, N_REQUESTS)
        extra = ""
        if url.endswith("/due"):
            extra = f"  ({response.json()['count']:,} items due)"
        elif url.endswith("/contacts"):
            extra = f"  ({response.json()['count']:,} contacts)"
        elif url.startswith("/api/v1/visit-rounds"):
            out = response.json()["round"]
            extra = f"  ({out['visited']:,} / {out['total']:,} children visited this round)"
        else:
            html = response.content.decode()
            visited = re.search(r'data-count="visited">(\d+)<', html)[1]
            total = re.search(r"已家访 <strong[^>]*>\d+</strong> / (\d+) 人", html)[1]
            extra = f"  ({int(visited):,} / {int(total):,} children visited this term)"
        print(
            f"  {label:<{width}} p50 {statistics.median(times) * 1000:7.0f} ms"
            f"   p95 {p95(times) * 1000:7.0f} ms{extra}"
        )
    tracemalloc.start()
    client.get("/api/v1/contacts/due")
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak memory: {peak / 2**20:.0f} MB Python heap for one town-wide due list "
        f"(tracemalloc), {rss_mb():.0f} MB peak RSS of the whole run (build included)"
    )
    if os.environ.get("BENCH_KEEP") == "1":
        print(f"database kept in {data_dir}")
    else:
        connection.close()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
