"""`guanai rotate-key` speed: re-encrypting a town's register under a new field key.

    .venv/bin/python bench/rotate_key.py                     # 20,000 children
    BENCH_CHILDREN=2000 .venv/bin/python bench/rotate_key.py  # a quick run
    (BENCH_BATCH sets the rows per transaction, default 500)

Builds a fresh SQLite database under a temporary GUANAI_DATA_DIR with N children under the old
key, each with an ID number and a 学籍号, a guardian and a father with an ID number, and one
history row for each (simple_history's bulk_create_with_history), so the run rotates ~7 values
per child. Then makes a new key current (the old one stays readable), times `--check`, the
rotation itself and, halfway through, a lookup by ID number of a rotated and a not-yet-rotated
child. Prints numbers; never a timed test.
"""

import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N_CHILDREN = int(os.environ.get("BENCH_CHILDREN", "20000"))
BATCH = int(os.environ.get("BENCH_BATCH", "500"))
OLD = "bench-old-field-key-" + "o" * 40
NEW = "bench-new-field-key-" + "n" * 40


def setup_django() -> Path:
    if os.environ.pop("DATABASE_URL", None):
        print("DATABASE_URL ignored: this bench measures SQLite")
    data_dir = Path(tempfile.mkdtemp(prefix="guanai-bench-rotate-"))
    os.environ["GUANAI_DATA_DIR"] = str(data_dir)
    os.environ["GUANAI_FIELD_KEY"] = OLD
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def build(rng: random.Random) -> list[tuple[int, str]]:
    from django.db import transaction
    from simple_history.utils import bulk_create_with_history

    from guanai.children.models import Child, Guardian, Parent
    from guanai.lib import crypto
    from guanai.lib.idcard import make_id_number
    from guanai.lib.masking import mask_id_number
    from guanai.org.models import School, SchoolClass, Town

    town = Town.objects.create(name="虎山镇")
    school = School.objects.create(town=town, code="S01", name="第1小学")
    classes = [SchoolClass.objects.create(school=school, grade=g, class_no=1) for g in range(1, 7)]
    used: set[str] = set()

    def number(birth: dt.date) -> str:
        while True:
            n = make_id_number("431121", birth, rng.randrange(1, 999))
            if n not in used:
                used.add(n)
                return n

    def enc(n: str) -> dict:
        return {
            "id_number_enc": crypto.encrypt(n),
            "id_number_hash": crypto.lookup_hash(n),
            "id_number_masked": mask_id_number(n),
        }

    sample: list[tuple[int, str]] = []
    done = 0
    while done < N_CHILDREN:
        size = min(2000, N_CHILDREN - done)
        kids, numbers = [], []
        for _ in range(size):
            n = number(dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(2000)))
            numbers.append(n)
            kids.append(
                Child(
                    school=school,
                    school_class=rng.choice(classes),
                    name="张三",
                    **enc(n),
                    id_last4=n[-4:],
                    student_no_enc=crypto.encrypt("G" + n),
                    student_no_hash=crypto.lookup_hash("G" + n),
                )
            )
        with transaction.atomic():
            made = bulk_create_with_history(kids, Child)
            if len(made) and made[0].pk is None:
                made = list(Child.objects.order_by("-pk")[:size])[::-1]

            def adult() -> dt.date:
                return dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(9000))

            bulk_create_with_history(
                [Guardian(child=c, name="奶奶", **enc(number(adult()))) for c in made], Guardian
            )
            bulk_create_with_history(
                [
                    Parent(child=c, relation="father", name="父", **enc(number(adult())))
                    for c in made
                ],
                Parent,
            )
        sample += list(zip([c.pk for c in made], numbers, strict=True))[:5]
        done += size
    return sample


def main() -> None:
    data_dir = setup_django()
    try:
        from django.conf import settings

        from guanai.children.models import Child
        from guanai.lib import crypto
        from guanai.privacy import rotation

        rng = random.Random(19)
        t0 = time.perf_counter()
        sample = build(rng)
        print(f"built {N_CHILDREN} children under the old key in {time.perf_counter() - t0:.1f} s")

        settings.FIELD_KEY, settings.FIELD_OLD_KEYS = NEW, [OLD]
        t0 = time.perf_counter()
        pending = rotation.pending()
        print(
            f"--check: {sum(pending.values())} values under the old key "
            f"({time.perf_counter() - t0:.2f} s)"
        )

        first_pk, first_no = sample[0]
        last_pk, last_no = sample[-1]
        lookups: list[float] = []

        def lookup_halfway(n: int) -> None:
            if n != max(1, N_CHILDREN // BATCH // 2):
                return
            for pk, no in ((first_pk, first_no), (last_pk, last_no)):
                t = time.perf_counter()
                found = Child.objects.filter(id_number_hash__in=crypto.lookup_hashes(no)).first()
                lookups.append((time.perf_counter() - t) * 1000)
                assert found and found.pk == pk and found.id_number == no

        rotation.after_batch = lookup_halfway
        summary = rotation.rotate(batch_size=BATCH)
        print(f"rotated in {summary.batches} batches of ≤ {BATCH} rows:")
        for name, count in summary.rows.items():
            print(f"  {name}: {count}")
        print(
            f"{summary.total} values in {summary.seconds:.1f} s = "
            f"{summary.total / summary.seconds:.0f} values/s, "
            f"{N_CHILDREN / summary.seconds:.0f} children/s (card, parents, guardian, history)"
        )
        if lookups:
            print(
                "lookup by ID number halfway (rotated child, not-yet-rotated child): "
                + ", ".join(f"{ms:.1f} ms" for ms in lookups)
            )
        left = sum(rotation.pending().values())
        print(f"left under the old key: {left}")
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
