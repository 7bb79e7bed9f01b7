"""Letters' family keys across a key rotation: the cost of moving them to the new key
(`contacts.families.rehash_family_keys`, for `guanai rotate-key`) and of finding a family's
letters under every key of the ring (`contacts.letters.family_letters`).

    .venv/bin/python bench/family_keys.py                    # 5,000 families, 2 printings
    BENCH_FAMILIES=500 .venv/bin/python bench/family_keys.py   # a quick run

Builds a fresh SQLite database under a temporary GUANAI_DATA_DIR: N families of one or two
children (a guardian's phone each), two printings under the old key (2 N letters); then makes
a new key current (the old one stays readable) and times the count (`check=True`), the move and
a lookup of one family's letters before and after the move. Prints numbers; never a timed test.
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

N_FAMILIES = int(os.environ.get("BENCH_FAMILIES", "5000"))
OLD = "bench-old-field-key-" + "o" * 40
NEW = "bench-new-field-key-" + "n" * 40


def setup_django() -> Path:
    if os.environ.pop("DATABASE_URL", None):
        print("DATABASE_URL ignored: this bench measures SQLite")
    data_dir = Path(tempfile.mkdtemp(prefix="guanai-bench-family-"))
    os.environ["GUANAI_DATA_DIR"] = str(data_dir)
    os.environ["GUANAI_FIELD_KEY"] = OLD
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def build(rng: random.Random):
    from django.db import transaction

    from guanai.accounts.models import User
    from guanai.children.models import Child, Guardian
    from guanai.contacts.families import facts_of, group_families, stored_family_key
    from guanai.contacts.models import Letter, LetterBatch, LetterChild
    from guanai.org.models import School, SchoolClass, Town

    town = Town.objects.create(name="虎山镇")
    school = School.objects.create(town=town, code="S01", name="第1小学")
    classes = [SchoolClass.objects.create(school=school, grade=g, class_no=1) for g in range(1, 7)]
    by = User.objects.create(username="bench", display_name="校长")
    with transaction.atomic():
        kids = []
        for f in range(N_FAMILIES):
            for _ in range(rng.choice((1, 1, 2))):
                kids.append(
                    Child(
                        school=school,
                        school_class=rng.choice(classes),
                        name="张三",
                        birth_date=dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(2000)),
                    )
                )
                kids[-1]._phone = f"139{f:08d}"
        made = Child.objects.bulk_create(kids)
        Guardian.objects.bulk_create(
            Guardian(child=c, name="奶奶", phone=k._phone) for c, k in zip(made, kids, strict=True)
        )
    rows = list(Child.objects.select_related("guardian").order_by("birth_date", "pk"))
    families = group_families([(c, facts_of(c)) for c in rows])
    for n in range(2):
        with transaction.atomic():
            batch = LetterBatch.objects.create(
                school=school, title=f"第{n + 1}次", body="…", receipt_text="…", created_by=by
            )
            letters = Letter.objects.bulk_create(
                Letter(
                    batch=batch,
                    child=family[0],
                    code=f"B{n}{i:08d}",
                    family_key=stored_family_key(key),
                )
                for i, (key, family) in enumerate(families)
            )
            LetterChild.objects.bulk_create(
                LetterChild(letter=letter, child=child, batch=batch)
                for letter, (_key, family) in zip(letters, families, strict=True)
                for child in family
            )
    return rows, len(families)


def main() -> None:
    data_dir = setup_django()
    try:
        from django.conf import settings

        from guanai.contacts.families import rehash_family_keys
        from guanai.contacts.letters import family_letters

        rng = random.Random(19)
        t0 = time.perf_counter()
        rows, families = build(rng)
        letters = 2 * families
        print(
            f"built {families} families ({len(rows)} children), {letters} letters under the old "
            f"key in {time.perf_counter() - t0:.1f} s"
        )
        settings.FIELD_KEY, settings.FIELD_OLD_KEYS = NEW, [OLD]
        child = rows[len(rows) // 2]

        def lookup() -> tuple[int, float]:
            t = time.perf_counter()
            found = len(list(family_letters(child)))
            return found, (time.perf_counter() - t) * 1000

        found, ms = lookup()
        print(f"one family's letters under the ring, before the move: {found} in {ms:.1f} ms")
        t0 = time.perf_counter()
        waiting = rehash_family_keys(check=True)
        print(f"check: {waiting} letters to move ({time.perf_counter() - t0:.2f} s)")
        t0 = time.perf_counter()
        moved = rehash_family_keys()
        seconds = time.perf_counter() - t0
        print(f"moved {moved} letters in {seconds:.2f} s = {moved / seconds:.0f} letters/s")
        settings.FIELD_OLD_KEYS = []
        found, ms = lookup()
        print(f"one family's letters after the move, old key gone: {found} in {ms:.1f} ms")
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
