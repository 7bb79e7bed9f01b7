"""Time and peak memory of the inspection sample: the pure draw and its re-verification over
eligible lists the size of a school, a town and a county, and the whole service (reading the
school's eligible children, drawing, storing) on the demo town when a database is given.

    .venv/bin/python bench/inspections.py [--sizes 500,6000,100000] [--sample 20]
    GUANAI_DATA_DIR=var .venv/bin/python bench/inspections.py --db   # after `guanai init --demo`

Prints numbers; never a timed unit test.
"""

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_draw(sizes: list[int], sample: int) -> None:
    from guanai.inspections.sampling import draw

    print(f"{'eligible':>9} {'sample':>7} {'draw ms':>9} {'verify ms':>10} {'alloc MB':>9}")
    for n in sizes:
        eligible = [(i, 1 + i % 6) for i in range(1, n + 1)]
        tracemalloc.start()
        t0 = time.perf_counter()
        drawn = draw("bench-seed", eligible, sample)
        t1 = time.perf_counter()
        assert draw("bench-seed", eligible, sample) == drawn
        t2 = time.perf_counter()
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"{n:>9} {sample:>7} {(t1 - t0) * 1000:>9.1f} {(t2 - t1) * 1000:>10.1f}"
            f" {peak / 2**20:>9.1f}"
        )


def bench_db(sample: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanai.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from guanai.inspections import services
    from guanai.org.models import School

    for school in School.objects.order_by("code"):
        with transaction.atomic():
            with CaptureQueriesContext(connection) as q:
                t0 = time.perf_counter()
                insp = services.create_inspection(
                    school=school, planned_on=insp_day(), sample_size=sample, seed="b", by=None
                )
                t1 = time.perf_counter()
            ok = services.reproduced(insp)
            t2 = time.perf_counter()
            print(
                f"{school.code}: {len(insp.eligible)} eligible, drew {len(insp.sample)} in"
                f" {(t1 - t0) * 1000:.1f} ms ({len(q)} queries), verify {(t2 - t1) * 1000:.1f} ms"
                f" reproduced={ok}"
            )
            transaction.set_rollback(True)  # leave the database as it was


def insp_day():
    from django.utils import timezone

    return timezone.localdate()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="500,6000,100000")
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--db", action="store_true", help="also time the service on the database")
    args = parser.parse_args()
    bench_draw([int(s) for s in args.sizes.split(",")], args.sample)
    if args.db:
        bench_db(args.sample)
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
