"""Time and query counts of the activity, donation and children's-home reads on a database with
the demo town (the coverage per class, the home-page panel, the fairness list, a home's month
and never-came list, a child's activities on the card), for the town administrator and a
school leader; the participants chosen from a list (the overdue: the contacts' due list; the
never-reached: no contact this term) for an activity of 中心小学; the time of N allocations
against one donation (each locks the donation's row, `donations.allocate`) and of the donor's
certificate PDF of that donation (`donations.certificate_pdf`).

    DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python bench/activities.py
    (a database where `guanai init --demo` or guanai.demo.load_demo + activities.demo.load ran)

The allocations run inside a transaction that is rolled back: the database is left as it was.
Prints numbers; never a timed unit test.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--allocations", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanai.settings")
    import django

    django.setup()
    import datetime as dt
    from decimal import Decimal

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from guanai.accounts.models import User
    from guanai.activities import donations, homes, services
    from guanai.activities.models import Activity, Home
    from guanai.children.models import Child
    from guanai.org.models import School

    home = Home.objects.first()
    activity = Activity.objects.filter(school__code="HS-ZX").first()
    child = Child.objects.filter(activity_places__isnull=False).first()
    print(f"children {Child.objects.count()}, left-behind {Child.objects.left_behind().count()}")
    print(f"{'user':>10} {'read':<22} {'ms (best)':>10} {'queries':>8}")
    for username in ("town", "zx_leader", "bq_leader"):
        user = User.objects.get(username=username)
        reads = {
            "coverage": lambda u=user: services.coverage(u),
            "home panel": lambda u=user: services.home_panel(u),
            "fairness": lambda u=user: donations.fairness(u),
            "home month": lambda u=user: homes.monthly_use(home, u),
            "home never came": lambda u=user: list(homes.never_came(home, u)),
            "card activities": lambda u=user: services.activities_for_child(child, u),
            "pick: overdue": lambda u=user: list(
                services.candidates(u, activity, listed="overdue")
            ),
            "pick: never reached": lambda u=user: list(
                services.candidates(u, activity, listed="never_reached")
            ),
        }
        for name, read in reads.items():
            best = float("inf")
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as q:
                    t0 = time.perf_counter()
                    read()
                    best = min(best, time.perf_counter() - t0)
            print(f"{username:>10} {name:<22} {best * 1000:>10.1f} {len(q):>8}")

    leader = User.objects.get(username="zx_leader")
    school = School.objects.get(code="HS-ZX")
    kids = list(Child.objects.filter(school=school).active()[:50])
    with transaction.atomic():
        donation = donations.record_donation(
            school=school,
            values={
                "donor": "bench",
                "kind": "money",
                "amount": str(args.allocations),
                "received_on": dt.date.today() - dt.timedelta(days=1),
            },
            by=leader,
        )
        t0 = time.perf_counter()
        for i in range(args.allocations):
            donations.allocate(
                donation=donation,
                child=kids[i % len(kids)],
                values={"amount": Decimal(1), "handed_on": donation.received_on, "handed_by": "b"},
                by=leader,
            )
        spent = time.perf_counter() - t0
        assert donation.balance() == 0
        print(
            f"{args.allocations} allocations: {spent * 1000 / args.allocations:.2f} ms each,"
            f" balance {donation.balance()}"
        )
        donations.set_stories(
            donation=donation, stories="孩子们用这笔钱买了冬衣。\n一位奶奶写来感谢信。", by=leader
        )
        best = float("inf")
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as q:
                t0 = time.perf_counter()
                pdf = donations.certificate_pdf(donation)
                best = min(best, time.perf_counter() - t0)
        print(
            f"certificate PDF ({args.allocations} allocations): {best * 1000:.0f} ms (best),"
            f" {len(q)} queries, {len(pdf) // 1024} KB"
        )
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
