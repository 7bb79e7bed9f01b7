"""Today's counts per class kept by triggers (stats/live.py) at county scale.

    .venv/bin/python bench/live_counts.py            # 100,000 children (bench/stats.py's town)
    BENCH_CHILDREN=20000 .venv/bin/python bench/live_counts.py           # quicker
    (BENCH_CONTACTS contacts (100,000: the counts do not read them), BENCH_REQUESTS requests
    per case (20), BENCH_DATA_DIR=dir keeps and reuses the SQLite database, BENCH_DATABASE_URL=
    postgres://… runs on an empty PostgreSQL database instead)

Builds bench/stats.py's town, then prints:
- the cold count: every class counted and stored (the worker's round after midnight, or the
  first reader of a day the worker missed), and the pass over the cards it replaces;
- GET /api/v1/stats/summary (town, school, grade) and the town dashboard's counts
  (`services.dashboard_counts`) with every class stored, p50/p95;
- the same with a card written before each request (its class counted again);
- what the triggers cost a writer: one card, one guardian and one parent updated by primary
  key, with and without the triggers, per write.
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BENCH_CONTACTS", "100000")

from bench.contacts import p95, rss_mb
from bench.stats import N_CHILDREN, N_REQUESTS, build, setup_django


def ms(times: list[float]) -> str:
    return f"p50 {statistics.median(times) * 1000:6.0f} ms  p95 {p95(times) * 1000:6.0f} ms"


def main() -> None:
    setup_django()
    from django.db import connection
    from django.test import Client

    from guanai.accounts.models import User
    from guanai.children.models import Child, Guardian, Parent
    from guanai.org.models import School
    from guanai.stats import live, services
    from guanai.stats.models import LiveCount

    rng = random.Random(1)
    if School.objects.filter(code="S01").exists():
        print("reusing the database in BENCH_DATA_DIR")
        admin = User.objects.get(username="bench_town")
    else:
        print(f"building {N_CHILDREN:,} children on {connection.vendor} …")
        admin = build(rng)[0]
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    school = School.objects.order_by("code").first().code
    n_classes = LiveCount.objects.count() or "?"
    print(f"{connection.vendor}, {Child.objects.count():,} cards, classes with a row: {n_classes}")

    cold = []
    for _ in range(3):
        LiveCount.objects.update(counts=None)
        t0 = time.perf_counter()
        live.refresh()
        cold.append(time.perf_counter() - t0)
    print(f"cold count, every class counted and stored: {ms(cold)}")
    slow = []
    for _ in range(3):
        t0 = time.perf_counter()
        services.summary(admin, stored=False)
        slow.append(time.perf_counter() - t0)
    print(f"the pass over the cards it replaces (summary, town): {ms(slow)}")

    client = Client()
    client.force_login(admin)
    cases = [
        ("summary, whole town", lambda: client.get("/api/v1/stats/summary")),
        ("summary, one school", lambda: client.get("/api/v1/stats/summary", {"school": school})),
        (
            "summary, one grade",
            lambda: client.get("/api/v1/stats/summary", {"school": school, "grade": 3}),
        ),
        ("dashboard counts, town", lambda: services.dashboard_counts(admin)),
        ("dashboard counts, school", lambda: services.dashboard_counts(admin, school=school)),
    ]
    ids = list(Child.objects.values_list("pk", flat=True))

    def write_one() -> None:
        child = Child.objects.get(pk=rng.choice(ids))
        child.village = rng.choice(("虎山村", "板桥村", ""))
        child.save()

    for writes in (False, True):
        print("with a card written before each request:" if writes else "every class stored:")
        for label, call in cases:
            call()
            times = []
            for _ in range(N_REQUESTS):
                if writes:
                    write_one()
                t0 = time.perf_counter()
                call()
                times.append(time.perf_counter() - t0)
            print(f"  {label:<26} {ms(times)}")

    def writes_cost() -> dict[str, float]:
        out = {}
        sample = rng.sample(ids, 200)
        for label, run in (
            ("card", lambda pk: Child.objects.filter(pk=pk).update(village="虎山村")),
            ("guardian", lambda pk: Guardian.objects.filter(child_id=pk).update(relation="祖母")),
            ("parent", lambda pk: Parent.objects.filter(child_id=pk).update(status="away")),
        ):
            t0 = time.perf_counter()
            for pk in sample:
                run(pk)
            out[label] = (time.perf_counter() - t0) / len(sample) * 1000
        return out

    with_triggers = writes_cost()
    with connection.schema_editor() as editor:
        live.drop_triggers(editor)
    without = writes_cost()
    with connection.schema_editor() as editor:
        live.install_triggers(editor)
    print("a write by primary key (autocommit), with → without the triggers:")
    for label in with_triggers:
        print(f"  {label:<9} {with_triggers[label]:.2f} ms → {without[label]:.2f} ms")
    print(f"peak RSS {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
