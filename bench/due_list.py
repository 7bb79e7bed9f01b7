"""The town-wide due list (应联系/已逾期) at county size: page and API, p50/p95, wall and CPU.

    PYTHONPATH=. .venv/bin/python bench/due_list.py                   # builds like contacts.py
    PYTHONPATH=. .venv/bin/python bench/due_list.py --data-dir /tmp/guanai-bench-contacts-XXXX
    PYTHONPATH=. .venv/bin/python bench/due_list.py --database-url postgres://…/guanai_bench_due
    options: --requests 20

Uses the database bench/contacts.py builds (100,000 children in 40 schools, 1,000,000 contacts;
BENCH_CHILDREN, BENCH_CONTACTS, BENCH_SCHOOLS as there): give a kept one (BENCH_KEEP=1) with
--data-dir (SQLite) or --database-url (PostgreSQL), or let this script build a fresh SQLite
one. Times, as the town administrator (bench_town) through django.test.Client:
`contacts.rules.due_items` for the whole town, GET /api/v1/contacts/due (town, and one school)
and the page /contacts/due/ (town). Wall time depends on what else the machine runs (the load
average is printed); CPU time of this process is the SQLite engine plus Python (with
PostgreSQL the server's CPU is not in it). Target: town-wide p95 <= 300 ms.
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
    parser.add_argument("--data-dir", help="a kept bench/contacts.py data directory (SQLite)")
    parser.add_argument("--database-url", help="a kept bench/contacts.py PostgreSQL database")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    os.environ.pop("DATABASE_URL", None)
    if args.data_dir or args.database_url:
        os.environ["GUANAI_DATA_DIR"] = args.data_dir or tempfile.mkdtemp(prefix="guanai-due-")
        if args.database_url:
            os.environ["DATABASE_URL"] = args.database_url
        import django

        django.setup()
    else:
        import random

        import contacts as built

        built.setup_django()
        built.build(random.Random(1))
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from guanai.accounts.models import User
    from guanai.children.models import Child
    from guanai.contacts.rules import due_items
    from guanai.org.models import School

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

    cases = [
        ("due_items(), whole town", direct),
        ("GET /api/v1/contacts/due, whole town", get("/api/v1/contacts/due")),
        (
            "GET /api/v1/contacts/due?school=, one school",
            get("/api/v1/contacts/due", {"school": school}),
        ),
        ("GET /contacts/due/ (page), whole town", get("/contacts/due/")),
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
        if label.startswith("GET /api"):
            extra = f"  ({out.json()['count']:,} items due)"
        print(
            f"  {label:<{width}}  wall p50 {statistics.median(walls) * 1000:6.0f} ms"
            f" p95 {p95(walls) * 1000:6.0f} ms   cpu p50 {statistics.median(cpus) * 1000:6.0f} ms"
            f" p95 {p95(cpus) * 1000:6.0f} ms{extra}"
        )


if __name__ == "__main__":
    main()
