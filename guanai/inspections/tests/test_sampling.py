"""Property tests of the draw (guanai/inspections/sampling.py): pure, reproducible, proportional."""

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanai.inspections.sampling import allocate, draw, strata

# [(child id, grade)] with distinct ids, as stored with an inspection (ordered by id).
eligible_lists = st.dictionaries(
    st.integers(1, 10_000), st.integers(0, 9), min_size=0, max_size=120
).map(lambda d: sorted(d.items()))
seeds = st.text(max_size=20)
# The machine is shared with other test runs: generating lists may be slow, never wrong.
RELAXED = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)


@RELAXED
@given(seeds, eligible_lists, st.integers(1, 150))
def test_same_seed_and_list_give_the_same_sample(seed, eligible, n):
    assert draw(seed, eligible, n) == draw(seed, list(eligible), n)


@RELAXED
@given(seeds, eligible_lists, st.integers(1, 150))
def test_only_eligible_children_each_once_and_the_size_asked(seed, eligible, n):
    sample = draw(seed, eligible, n)
    ids = {c for c, _g in eligible}
    assert set(sample) <= ids
    assert len(sample) == len(set(sample)) == min(n, len(eligible))


@RELAXED
@given(seeds, eligible_lists, st.integers(1, 150))
def test_every_grade_with_children_gets_one_when_the_sample_allows(seed, eligible, n):
    groups = strata(eligible)
    sample = set(draw(seed, eligible, n))
    if n >= len(groups):
        for ids in groups.values():
            assert sample & set(ids)


@settings(RELAXED, max_examples=300)
@given(seeds, eligible_lists, st.integers(1, 150))
def test_grades_take_their_proportional_share_within_one(seed, eligible, n):
    groups = strata(eligible)
    total = len(eligible)
    if n >= total or not groups:
        return
    seats = allocate(seed, {g: len(ids) for g, ids in groups.items()}, n)
    assert sum(seats.values()) == n
    for g, ids in groups.items():
        share = Fraction(n * len(ids), total)
        if share < 1 and n >= len(groups):
            assert seats[g] == 1  # the minimum of one, for a grade below one seat
        else:
            assert seats[g] <= share + 1
            # a grade gives a seat to a small one only from above its share's floor
            assert seats[g] >= share - 1 - sum(
                1 for h in groups if Fraction(n * len(groups[h]), total) < 1
            )


@RELAXED
@given(seeds, eligible_lists, st.integers(1, 150))
def test_without_small_grades_every_share_is_within_one(seed, eligible, n):
    groups = strata(eligible)
    total = len(eligible)
    if n >= total or not groups:
        return
    if any(Fraction(n * len(ids), total) < 1 for ids in groups.values()):
        return
    seats = allocate(seed, {g: len(ids) for g, ids in groups.items()}, n)
    for g, ids in groups.items():
        assert abs(seats[g] - Fraction(n * len(ids), total)) < 1


def test_a_different_seed_gives_another_sample():
    eligible = [(i, i % 3) for i in range(1, 61)]
    assert draw("甲", eligible, 10) != draw("乙", eligible, 10)


def test_the_draw_is_fixed_across_python_versions():
    """The hash ranking, not `random`: this exact answer holds on every Python."""
    eligible = [(i, 3 + i % 2) for i in range(1, 21)]
    assert draw("seed", eligible, 4) == [20, 8, 11, 19]  # grade 3 first, then grade 4


def test_zero_or_negative_draws_nothing():
    assert draw("s", [(1, 1)], 0) == []
