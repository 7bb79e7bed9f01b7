"""The town-wide due list (应联系/已逾期) at county size: page and API, p50/p95, wall and CPU.

    PYTHONPATH=. .venv/bin/python bench/due_list.py                   # builds like contacts.py
    PYTHONPATH=. .venv/bin/python bench/due_list.py --data-dir /tmp/guanai-bench-contacts-XXXX
    PYTHONPATH=. .venv/bin/python bench/due_list.py --database-url postgres://…/guanai_bench_due
    options: --requests 20

Uses the database bench/contacts.py builds (100,000 children in 40 schools, 1,000,000 contacts;
BENCH_CHILDREN, BENCH_CONTACTS, BENCH_SCHOOLS as there): give a kept one (BENCH_KEEP=1) with
--data-dir or BENCH_DATA_DIR (SQLite) or --database-url or BENCH_DATABASE_URL (PostgreSQL), or
let this script build a fresh SQLite one. An empty data dir or database is built first and kept
for the next run. A kept database is migrated first (a database built before
`contacts.ContactSummary` gets the table filled from its contacts: the time is printed). Times, as the town administrator (bench_town): `contacts.rules.due_items`
for the whole town (every item: what the Excel export builds), through django.test.Client
GET /api/v1/contacts/due (town, and one school), the page /contacts/due/ (town, and one school),
and the dashboard's 待联系 and 普访 panels (`stats.coverage.due_panel`, `visit_panel`, town-wide,
per school). With --write-cost, then
the cost of the triggers on a write: 20,000 contacts inserted with one executemany, rolled
back, with and without the triggers (ContactSummary's; LastContact's went with migration
0010). Wall time depends on what else the machine runs (the load average is printed); CPU time of this process is the SQLite engine plus
Python (with PostgreSQL the server's CPU is not in it). Target: town-wide p95 <= 300 ms.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("BENCH_DATA_DIR"),
        help="a kept bench/contacts.py data directory (SQLite; default BENCH_DATA_DIR)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a kept bench/contacts.py PostgreSQL database (default BENCH_DATABASE_URL)",
    )
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--write-cost", action="store_true", help="also time inserts with and without triggers"
    )
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    os.environ.pop("DATABASE_URL", None)
    if args.data_dir or args.database_url:
        os.environ["GUANAI_DATA_DIR"] = args.data_dir or tempfile.mkdtemp(prefix="guanai-due-")
        if args.database_url:
            os.environ["DATABASE_URL"] = args.database_url
        import django

        django.setup()
        from django.core.management import call_command

        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrate: {time.perf_counter() - t0:.1f} s")
        from guanai.accounts.models import User

        if not User.objects.filter(username="bench_town").exists():  # an empty one: build it
            import random

            import contacts as built
            from django.db import connection

            built.build(random.Random(1))
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
            print(
                f"built and kept in {os.environ['GUANAI_DATA_DIR']}:"
                f" {time.perf_counter() - t0:.0f} s"
            )
    else:
        import random

        import contacts as built

        built.setup_django()
        built.build(random.Random(1))
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    from contacts import night_round  # bench/contacts.py
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from guanai.accounts.models import User
    from guanai.children.models import Child
    from guanai.contacts.rules import due_items
    from guanai.org.models import School
    from guanai.stats import coverage

    night_round()  # the town's due list reads the lines the worker keeps
    import guanai.wsgi  # noqa: F401  (as a web process starts: its objects frozen, wsgi.settle)

    admin = User.objects.get(username="bench_town")
    school = School.objects.order_by("pk").first().code
    client = Client()
    client.force_login(admin)
    n_children = Child.objects.count()
    print(
        f"{connection.vendor}: {n_children:,} children, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {args.requests} runs each"
    )

    def direct():
        return due_items(Child.objects.visible_to(admin), as_of=timezone.localdate())

    def get(url, params=None):
        def run():
            response = client.get(url, params or {})
            assert response.status_code == 200, (url, response.status_code)
            return response

        return run

    children = Child.objects.visible_to(admin).filter(enrolment="enrolled")
    units = coverage._units(children, per_school=True)

    def panel(fn, *args):
        return lambda: fn(*args, children, units, timezone.localdate())

    cases = [
        ("due_items(), whole town (every item)", direct),
        ("GET /api/v1/contacts/due, whole town", get("/api/v1/contacts/due")),
        (
            "GET /api/v1/contacts/due?school=, one school",
            get("/api/v1/contacts/due", {"school": school}),
        ),
        ("GET /contacts/due/ (page), whole town", get("/contacts/due/")),
        ("GET /contacts/due/?page=11, whole town", get("/contacts/due/", {"page": 11})),
        ("GET /contacts/due/?page=100, whole town", get("/contacts/due/", {"page": 100})),
        ("GET /api/v1/contacts/due?page=100, town", get("/api/v1/contacts/due", {"page": 100})),
        ("GET /api/v1/contacts/due?page=101, town", get("/api/v1/contacts/due", {"page": 101})),
        ("GET /api/v1/contacts/due?page=1000, town", get("/api/v1/contacts/due", {"page": 1000})),
        (
            "GET /contacts/due/?school= (page), one school",
            get("/contacts/due/", {"school": school}),
        ),
        ("panel 待联系 (due_panel), whole town", panel(coverage.due_panel, admin)),
        ("panel 普访 (visit_panel), whole town", panel(coverage.visit_panel)),
    ]
    width = max(len(label) for label, _run in cases)
    for label, run in cases:
        out = run()  # warm
        walls, cpus = [], []
        for _ in range(args.requests):
            t0, c0 = time.perf_counter(), time.process_time()
            run()
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        extra = f"  ({len(out):,} items)" if isinstance(out, list) else ""
        if hasattr(out, "lines"):
            extra = f"  ({out.done:,} / {out.total:,})"
        if label.startswith("GET /api"):
            extra = f"  ({out.json()['count']:,} items due)"
        print(
            f"  {label:<{width}}  wall p50 {statistics.median(walls) * 1000:6.0f} ms"
            f" p95 {p95(walls) * 1000:6.0f} ms   cpu p50 {statistics.median(cpus) * 1000:6.0f} ms"
            f" p95 {p95(cpus) * 1000:6.0f} ms{extra}"
        )
    if args.write_cost:
        write_cost(admin)


def write_cost(admin) -> None:
    """20,000 contacts in one executemany, with the triggers and without (rolled back)."""
    import datetime as dt
    import random

    from django.db import connection, transaction
    from django.utils import timezone

    from guanai.children.models import Child
    from guanai.contacts import contact_summary
    from guanai.contacts.models import Contact

    rng = random.Random(2)
    ids = list(Child.objects.values_list("pk", flat=True)[:50000])
    fields = [f for f in Contact._meta.local_concrete_fields if not f.primary_key]
    sql = (
        f"INSERT INTO contacts_contact ({', '.join(f.column for f in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))})"
    )
    now = timezone.now()
    rows = []
    for _ in range(20000):
        at = now - dt.timedelta(minutes=rng.randrange(60 * 24 * 300))
        row = {
            "child_id": rng.choice(ids),
            "kind": rng.choice(["phone", "home_visit"]),
            "at": at,
            "by_id": admin.pk,
            "created_at": at,
            "updated_at": at,
        }
        rows.append(
            [
                f.get_db_prep_save(
                    row[f.attname]
                    if f.attname in row
                    else (f.get_default() if f.has_default() else ("" if not f.null else None)),
                    connection,
                )
                for f in fields
            ]
        )

    class Rollback(Exception):
        pass

    def insert() -> float:
        t0 = time.perf_counter()
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.executemany(sql, rows)
                elapsed = time.perf_counter() - t0
                raise Rollback
        except Rollback:
            return elapsed

    with_triggers = insert()
    with connection.schema_editor() as editor:
        contact_summary.drop_triggers(editor)
    try:
        without = insert()
    finally:
        with connection.schema_editor() as editor:
            # and refill: the tables stay equal to the contacts
            contact_summary.install_triggers(editor)
    print(
        f"  write cost: 20,000 contacts in one executemany {with_triggers * 1000:,.0f} ms with the"
        f" triggers, {without * 1000:,.0f} ms without"
        f" ({(with_triggers - without) / 20000 * 1e6:,.0f} µs a contact)"
    )


if __name__ == "__main__":
    main()
