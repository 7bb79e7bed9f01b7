"""The coverage panels counted in one grouped pass give the numbers the features count a
school at a time (screening.services.progress_of), and the trends counted from lists those
probing per card, on random data (issue #14)."""

import datetime as dt
import random

import pytest
from django.utils import timezone

from guanai.children.models import Child, Enrolment
from guanai.contacts.models import Contact
from guanai.lib.dates import current_term
from guanai.pairing.models import Pair
from guanai.screening.models import (
    CardVerification,
    ScreeningCampaign,
    ScreeningRecord,
    VerificationRound,
)
from guanai.stats import coverage, services, trends
from guanai.stats.tests.test_daycounts import shuffle_cards
from guanai.testing import make_child, make_class

ROLES = ["town", "zx_leader", "zx_grade3", "zx_teacher31", "bq_leader", "village_director"]


def random_work(rng: random.Random, cast) -> None:
    """More children, moves between schools after a record, leavers; campaigns in some
    schools, two verification rounds in one, records and verifications at random (some of
    another school's campaign or round: a child who moved)."""
    classes = [*cast["classes"].values(), make_class(cast["schools"]["gt"], 5, 1)]
    for _ in range(6):
        make_child(
            rng.choice(classes), name="新生", **{"father.status": rng.choice(["away", "home"])}
        )
    term = current_term(dt.date(2026, 11, 29))
    schools = list(cast["schools"].values())
    campaigns = [
        ScreeningCampaign.objects.create(school=s, term=term) for s in schools if rng.random() < 0.8
    ]
    ScreeningCampaign.objects.create(school=schools[0], term="2025-2026-2")  # another term
    rounds = []
    for s in schools:
        for vacation in rng.sample(["winter", "summer"], rng.choice((0, 1, 2))):
            rounds.append(
                VerificationRound.objects.create(
                    school=s, term=term, vacation=vacation, deadline=dt.date(2027, 1, 20)
                )
            )
    cards = list(Child.objects.all())
    for child in cards:
        for c in campaigns:
            if rng.random() < 0.35:
                ScreeningRecord.objects.create(
                    campaign=c, child=child, outcome="marked", category=child.category
                )
        for r in rounds:
            if rng.random() < 0.35:
                CardVerification.objects.create(round=r, child=child, result="confirmed")
    for child in rng.sample(cards, len(cards) // 4):
        if rng.random() < 0.5:
            klass = rng.choice(classes)
            child.school_id, child.school_class = klass.school_id, klass
        else:
            child.enrolment = rng.choice((Enrolment.TRANSFERRED, Enrolment.ENROLLED))
        child.save()


def lines(panel: coverage.Panel) -> dict:
    return {k: (x.done, x.total) for k, x in panel.lines.items() if x.total or x.done}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_grouped_pass_counts_as_the_features_do(users, cast, seed):
    random_work(random.Random(seed), cast)
    term = current_term(dt.date(2026, 11, 29))
    for role in ROLES:
        for where in ({}, {"school": "HS-ZX"}, {"school": "HS-ZX", "grade": 3}):
            children = services.rows(users[role], bare=True, **where)
            for per_school in (True, False):
                units = coverage._units(children, per_school)
                fast = coverage.screening_panel(children, units, term)
                plain = coverage.screening_panel_plain(children, units, term)
                assert lines(fast) == lines(plain), (role, where, per_school)
                fast = coverage.verification_panel(children, units, term)
                plain = coverage.verification_panel_plain(children, units, term)
                assert lines(fast) == lines(plain), (role, where, per_school)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.clock("2026-03-10 09:00")
def test_trends_with_lists_count_as_a_probe_per_card(users, cast, kids, clock, seed):
    """Cards changed over two terms (moves between schools, leavers, categories), work in
    each term: each term's point from lists equals the one probing per card."""
    rng = random.Random(seed)
    classes = [*cast["classes"].values(), make_class(cast["schools"]["gt"], 5, 1)]
    schools = list(cast["schools"].values())
    for day in (dt.date(2026, 3, 10), dt.date(2026, 6, 1), dt.date(2026, 10, 8)):
        clock.move_to(dt.datetime(day.year, day.month, day.day, 2, tzinfo=dt.UTC))
        shuffle_cards(rng, kids, classes, users)
        term = current_term(day)
        cards = list(Child.objects.all())
        for s in schools:
            if rng.random() < 0.7:
                c = ScreeningCampaign.objects.get_or_create(school=s, term=term)[0]
                for child in rng.sample(cards, len(cards) // 2):
                    ScreeningRecord.objects.get_or_create(
                        campaign=c, child=child, defaults={"outcome": "marked", "category": "x"}
                    )
            if rng.random() < 0.7:
                r = VerificationRound.objects.get_or_create(
                    school=s, term=term, vacation="winter", defaults={"deadline": day}
                )[0]
                for child in rng.sample(cards, len(cards) // 2):
                    CardVerification.objects.get_or_create(
                        round=r, child=child, defaults={"result": "confirmed"}
                    )
        for child in rng.sample(cards, 3):
            Contact.objects.create(
                child=child, by=users["zx_teacher31"], kind="home_visit", at=timezone.now()
            )
        pair_children = rng.sample(cards, 2)
        Pair.objects.filter(status="active").update(status="ended", ended_at=timezone.now())
        Pair.objects.create(
            child=pair_children[0],
            buddy=pair_children[1],
            school=schools[0],
            status="active",
            cost=1.0,
            age_gap_days=1,
            accepted_at=timezone.now(),
        )
    clock.move_to(dt.datetime(2026, 11, 29, 2, tzinfo=dt.UTC))
    for role in ("town", "zx_leader", "zx_grade3", "zx_teacher31", "bq_leader", "proxy_wang"):
        for where in ({}, {"school": "HS-ZX"}, {"school": "HS-BQ", "grade": 3}):
            for term, day in trends.last_terms(dt.date(2026, 11, 29)):
                plain = trends.term_point_plain(users[role], term, day, **where)
                fast = trends._point(users[role], term, day, lists=True, **where)
                assert fast == plain, (role, where, term)
                assert trends.term_point(users[role], term, day, **where) == plain
