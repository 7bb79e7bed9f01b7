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


def bench_files() -> None:
    """Recognising an upload: a 10 MB PDF, a .docx and an .xlsx of about 1 MB (their ZIP
    directory read, nothing unpacked) and a 12-megapixel phone photo re-encoded."""
    import io
    import zipfile

    from PIL import Image

    from guanai.inspections.documents import read_document
    from guanai.lib.photos import reencode_photo

    def package(main: str) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr(main, "<x/>" * 250_000)
            for i in range(200):
                z.writestr(f"media/{i}.bin", os.urandom(4096))
        return out.getvalue()

    photo = io.BytesIO()
    Image.effect_noise((4000, 3000), 60).convert("RGB").save(photo, "JPEG", quality=90)
    cases = [
        ("plan.pdf", b"%PDF-1.7\n" + os.urandom(10 * 2**20 - 16)),
        ("plan.docx", package("word/document.xml")),
        ("ledger.xlsx", package("xl/workbook.xml")),
    ]
    print(f"{'file':>12} {'MB':>6} {'ms':>8}")
    for name, data in cases:
        t0 = time.perf_counter()
        read_document(io.BytesIO(data), name=name, size=len(data))
        print(f"{name:>12} {len(data) / 2**20:6.1f} {(time.perf_counter() - t0) * 1000:8.1f}")
    data = photo.getvalue()
    t0 = time.perf_counter()
    reencode_photo(io.BytesIO(data), name="photo.jpg")
    print(f"{'photo.jpg':>12} {len(data) / 2**20:6.1f} {(time.perf_counter() - t0) * 1000:8.1f}")


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
    bench_files()
    if args.db:
        bench_db(args.sample)
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
