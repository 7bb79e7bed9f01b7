"""A whole school's printable cards (一人一卡) as the background job renders them: pages per
second and peak memory.

    .venv/bin/python bench/cards_pdf.py                         # 300 children, 30 a class
    BENCH_CHILDREN=1000 BENCH_CLASS_SIZE=40 .venv/bin/python bench/cards_pdf.py
    BENCH_ONE_DOCUMENT=0 …    # skip the comparison run that renders the school as one document

Builds a fresh SQLite database under a temporary GUANAI_DATA_DIR: one school of BENCH_CHILDREN
enrolled children in classes of BENCH_CLASS_SIZE (through the card service, as an import would),
and its school leader. Then, each in a fresh process (peak RSS only grows):
  job  — `cards_pdf.build_school_cards`, exactly what the worker runs: class by class, joined
         with pypdf, encrypted; prints pages/s, seconds per class (min/median/max), the kept
         file's size and the process's peak RSS before and after rendering.
  one  — the same cards as ONE WeasyPrint document (what the old request did), for the peak RSS
         the class-by-class job avoids.
Prints the machine's load average alongside (the numbers move with it).
"""

import datetime as dt
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N_CHILDREN = int(os.environ.get("BENCH_CHILDREN", "300"))
CLASS_SIZE = int(os.environ.get("BENCH_CLASS_SIZE", "30"))
ONE_DOCUMENT = os.environ.get("BENCH_ONE_DOCUMENT", "1") == "1"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django(data_dir: Path) -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ["GUANAI_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    import django

    django.setup()


def build(data_dir: Path) -> None:
    setup_django(data_dir)
    from django.core.management import call_command

    from guanai.accounts.models import Role
    from guanai.testing import make_child, make_class, make_school, make_user

    call_command("migrate", verbosity=0)
    school = make_school()
    make_user("leader", Role.SCHOOL_LEADER, school=school, display_name="刘校长")
    t0 = time.perf_counter()
    for i in range(N_CHILDREN):
        grade, class_no = 1 + (i // CLASS_SIZE) % 6, 1 + i // (CLASS_SIZE * 6)
        birth = dt.date(2014 + (6 - grade), 1, 1) + dt.timedelta(days=i % 360)
        make_child(
            make_class(school, grade, class_no),
            name=f"学生{i:04d}",
            birth=birth,
            health="哮喘需随身带药" if i % 7 == 0 else "",
            study="成绩中等，数学较好",
        )
    print(f"built {N_CHILDREN} children in {time.perf_counter() - t0:.1f} s")


def run_job(data_dir: Path) -> dict:
    setup_django(data_dir)
    from guanai.accounts.models import User
    from guanai.children import cards_pdf as P
    from guanai.contacts.letters_pdf import warm_up
    from guanai.jobs.models import Job
    from guanai.org.models import School

    warm_up()  # fontconfig and WeasyPrint, as the worker does at start
    user = User.objects.get(username="leader")
    school = School.objects.get()
    job = Job.objects.create(
        kind=P.SCHOOL_CARDS_KIND, params={"school": school.pk}, created_by=user
    )
    before = rss_mb()
    marks: list[float] = []

    def progress(done: int, total: int, message: str) -> None:
        marks.append(time.perf_counter())

    t0 = time.perf_counter()
    result = P.build_school_cards(school=school, user=user, job_id=job.pk, progress=progress)
    seconds = time.perf_counter() - t0
    per_class = [b - a for a, b in itertools.pairwise(marks[: result["classes"] + 1])]
    return {
        "pages": result["pages"],
        "classes": result["classes"],
        "seconds": seconds,
        "class_seconds": per_class,
        "file_mb": P.cards_path(job.pk).stat().st_size / 2**20,
        "rss_before": before,
        "rss_peak": rss_mb(),
    }


def run_one(data_dir: Path) -> dict:
    setup_django(data_dir)
    from guanai.accounts.models import User
    from guanai.children import cards_pdf as P
    from guanai.children.models import Child
    from guanai.contacts.letters_pdf import warm_up

    warm_up()
    user = User.objects.get(username="leader")
    before = rss_mb()
    t0 = time.perf_counter()
    children = list(
        P.printable(Child.objects.visible_to(user)).order_by(
            "school_class__grade", "school_class__class_no", "name"
        )
    )
    data = P.cards_pdf(children, user=user, title="全校")
    return {
        "pages": len(children),
        "seconds": time.perf_counter() - t0,
        "file_mb": len(data) / 2**20,
        "rss_before": before,
        "rss_peak": rss_mb(),
    }


def main() -> None:
    if len(sys.argv) == 3:  # a child process: one mode, JSON out
        mode, data_dir = sys.argv[1], Path(sys.argv[2])
        print(json.dumps((run_job if mode == "job" else run_one)(data_dir)))
        return
    data_dir = Path(tempfile.mkdtemp(prefix="guanai-bench-cards-"))
    print(f"load average before: {os.getloadavg()}")
    build(data_dir)
    modes = ["job", "one"] if ONE_DOCUMENT else ["job"]
    for mode in modes:
        out = subprocess.run(
            [sys.executable, __file__, mode, str(data_dir)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rate = r["pages"] / r["seconds"]
        grown = r["rss_peak"] - r["rss_before"]
        print(
            f"{mode:3}: {r['pages']} pages in {r['seconds']:.1f} s = {rate:.2f} pages/s; "
            f"file {r['file_mb']:.1f} MB; peak RSS {r['rss_peak']:.0f} MB "
            f"(+{grown:.0f} MB over the warmed-up process)"
        )
        if mode == "job" and r["class_seconds"]:
            cs = r["class_seconds"]
            print(
                f"     {r['classes']} classes: {min(cs):.1f} / {statistics.median(cs):.1f} / "
                f"{max(cs):.1f} s a class (min / median / max)"
            )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
