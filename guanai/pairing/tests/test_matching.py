"""The pure matcher: hand-made cases with known optima, infeasible cases, ties, and properties."""

import datetime as dt
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanai.pairing.matching import (
    Match,
    Person,
    Weights,
    cost_matrix,
    evaluate_pair,
    explain,
    greedy_match,
    match,
    normalize_group,
    rounded_total,
)

D0 = dt.date(2015, 1, 1)
KM_PER_DEGREE = 2 * math.pi * 6371.0 / 360  # along the equator, at the matcher's radius


def p(id_, days=0, village="虎山村", group="1组", km=None, gender="male", birth=True):
    """A person born `days` after D0, optionally `km` east of (0°, 0°) on the equator."""
    return Person(
        id=id_,
        birth_date=D0 + dt.timedelta(days=days) if birth else None,
        village=village,
        group=group,
        lat=0.0 if km is not None else None,
        lon=km / KM_PER_DEGREE if km is not None else None,
        gender=gender,
    )


def pairs_of(result):
    return {(m.child, m.buddy) for m in result.pairs}


# --- normalisation and the cost of one pair ------------------------------------------------


@pytest.mark.parametrize(
    "a, b",
    [
        ("1组", "一组"),
        ("1组", "第一组"),
        ("1组", "1"),
        ("1组", "１组"),
        ("1组", "01组"),
        ("1组", " 1 组 "),
        ("12组", "十二组"),
        ("20组", "二十组"),
        ("3组", "三村民小组"),
        ("东组", "东组"),
    ],
)
def test_group_names_that_mean_the_same_group_normalise_alike(a, b):
    assert normalize_group(a) == normalize_group(b)


def test_different_groups_stay_different():
    assert normalize_group("1组") != normalize_group("11组")
    assert normalize_group("二组") != normalize_group("十二组")
    assert normalize_group("") == ""


def test_same_village_and_group_written_differently_costs_nothing():
    m = evaluate_pair(p(1, group="1组"), p(2, group="一组"))
    assert m is not None
    assert (m.cost, m.same_village, m.same_group, m.distance_m) == (0.0, True, True, None)


def test_village_terms_same_group_0_other_group_1_other_village_3():
    child = p(1, village="虎山村", group="2组")
    assert evaluate_pair(child, p(2, village="虎山村", group="二组")).cost == 0
    other_group = evaluate_pair(child, p(3, village="虎山村", group="3组"))
    assert (other_group.cost, other_group.same_village, other_group.same_group) == (1, True, False)
    other_village = evaluate_pair(child, p(4, village="板桥村", group="2组"))
    assert (other_village.cost, other_village.same_village) == (3, False)


def test_a_blank_village_costs_as_another_village():
    assert evaluate_pair(p(1, village=""), p(2, village="")).cost == 3
    assert evaluate_pair(p(1, village="虎山村"), p(2, village="")).cost == 3


def test_two_blank_groups_in_the_same_village_compare_equal():
    m = evaluate_pair(p(1, group=""), p(2, group=""))
    assert (m.cost, m.same_village, m.same_group) == (0, True, True)


def test_a_blank_group_against_a_named_one_is_another_group():
    m = evaluate_pair(p(1, group=""), p(2, group="1组"))
    assert (m.cost, m.same_village, m.same_group) == (1, True, False)


def test_village_names_are_nfkc_normalised():
    assert evaluate_pair(p(1, village="虎山村"), p(2, village=" 虎山村 ")).same_village


def test_coordinates_replace_the_village_term_with_km():
    m = evaluate_pair(p(1, km=0.0, village="虎山村"), p(2, km=2.5, village="板桥村"))
    assert m.cost == pytest.approx(2.5, abs=1e-9)
    assert m.distance_m == pytest.approx(2500, abs=0.1)
    assert m.same_village is False


def test_coordinates_of_only_one_home_fall_back_to_village_terms():
    m = evaluate_pair(p(1, km=0.0), p(2, group="2组"))
    assert (m.cost, m.distance_m) == (1, None)


def test_haversine_of_one_degree_of_latitude():
    a = Person(1, D0, lat=27.0, lon=112.0)
    b = Person(2, D0, lat=28.0, lon=112.0)
    assert evaluate_pair(a, b).distance_m == pytest.approx(111_194.9, abs=0.2)


def test_age_gap_adds_a_year_per_365_days():
    m = evaluate_pair(p(1), p(2, days=-365))
    assert (m.age_gap_days, m.cost) == (365, pytest.approx(1.0))


def test_age_gap_of_730_days_is_allowed_731_is_not():
    assert evaluate_pair(p(1), p(2, days=730)).cost == pytest.approx(2.0)
    assert evaluate_pair(p(1), p(2, days=731)) is None


def test_a_missing_birth_date_makes_any_pair_infeasible():
    assert evaluate_pair(p(1, birth=False), p(2)) is None
    assert evaluate_pair(p(1), p(2, birth=False)) is None


def test_same_gender_setting():
    w = Weights(same_gender=True)
    assert evaluate_pair(p(1, gender="male"), p(2, gender="female"), w) is None
    assert evaluate_pair(p(1, gender="female"), p(2, gender="female"), w) is not None
    assert evaluate_pair(p(1, gender=""), p(2, gender=""), w) is None
    assert evaluate_pair(p(1, gender="male"), p(2, gender="female")) is not None


def test_weights_scale_the_terms():
    m = evaluate_pair(p(1, group="1组"), p(2, group="2组", days=365), Weights(2.0, 0.5))
    assert m.cost == pytest.approx(2 * 1 + 0.5 * 1)


def test_a_single_pair_costs_what_its_matrix_cell_costs():
    children = [p(1, km=0.0), p(2, group="3组", days=100), p(3, village="", days=-40)]
    buddies = [p(10, km=1.2, days=7), p(11, group="三组"), p(12, village="板桥村", days=800)]
    cost, feasible = cost_matrix(children, buddies)
    for i, c in enumerate(children):
        for j, b in enumerate(buddies):
            m = evaluate_pair(c, b)
            assert (m is not None) == feasible[i, j]
            if m is not None:
                assert m.cost == pytest.approx(cost[i, j], rel=1e-12, abs=1e-12)


def test_the_matrix_built_in_blocks_equals_the_matrix_built_at_once(monkeypatch):
    from guanai.pairing import matching

    children = [p(i, days=17 * i, km=i * 0.3 if i % 2 else None) for i in range(11)]
    buddies = [p(100 + j, days=-23 * j, group=f"{j % 3 + 1}组", km=j * 0.2) for j in range(13)]
    whole_cost, whole_feasible = cost_matrix(children, buddies)
    monkeypatch.setattr(matching, "BLOCK_CELLS", 7)
    block_cost, block_feasible = cost_matrix(children, buddies)
    assert (block_cost == whole_cost).all() and (block_feasible == whole_feasible).all()


# --- the optimum ------------------------------------------------------------------------------


def test_maximises_the_number_of_pairs_before_the_cost():
    # A's cheapest buddy X is B's only feasible one: greedy pairs A-X and leaves B alone.
    a = p(1, days=0, group="1组")
    b = p(2, days=-579, group="1组")  # 579 days from X, 760 from Y
    x = p(10, days=0, group="一组")
    y = p(11, days=181, group="2组")
    optimal = match([a, b], [x, y])
    assert pairs_of(optimal) == {(1, 11), (2, 10)}
    assert optimal.unpaired == []
    assert optimal.total_cost == pytest.approx((1 + 181 / 365) + 579 / 365)
    greedy = greedy_match([a, b], [x, y])
    assert pairs_of(greedy) == {(1, 10)} and greedy.unpaired == [2]


def test_minimises_total_cost_where_greedy_does_not():
    # On a line: A=0, X=1, B=1.9, Y=3 (km). Greedy takes B-X (0.9) then A-Y (3): 3.9.
    a, b = p(1, km=0.0), p(2, km=1.9)
    x, y = p(10, km=1.0), p(11, km=3.0)
    optimal = match([a, b], [x, y])
    assert pairs_of(optimal) == {(1, 10), (2, 11)}
    assert optimal.total_cost == pytest.approx(2.1, abs=1e-9)
    assert greedy_match([a, b], [x, y]).total_cost == pytest.approx(3.9, abs=1e-9)


def test_more_children_than_buddies_leaves_the_costliest_unpaired():
    children = [p(1, group="1组"), p(2, group="2组"), p(3, village="板桥村")]
    result = match(children, [p(10, group="一组"), p(11, group="二组")])
    assert pairs_of(result) == {(1, 10), (2, 11)}
    assert result.unpaired == [3]
    assert result.total_cost == 0


def test_more_buddies_than_children_picks_the_best_buddies():
    buddies = [p(10, village="板桥村"), p(11, group="2组"), p(12, days=30), p(13, days=3)]
    result = match([p(1)], buddies)
    assert pairs_of(result) == {(1, 13)}
    assert result.pairs[0].cost == pytest.approx(3 / 365)


def test_infeasible_children_are_unpaired_and_listed_in_id_order():
    children = [p(5, birth=False), p(3, days=900), p(4)]
    result = match(children, [p(10)])
    assert pairs_of(result) == {(4, 10)}
    assert result.unpaired == [3, 5]


def test_nobody_feasible_and_empty_inputs():
    assert match([p(1, birth=False)], [p(10)]).unpaired == [1]
    assert match([p(1)], []).unpaired == [1]
    empty = match([], [p(10)])
    assert (empty.pairs, empty.unpaired, empty.total_cost) == ([], [], 0.0)


def test_ties_are_broken_deterministically_at_the_optimum():
    children = [p(2), p(1)]
    buddies = [p(11), p(10)]
    first = match(children, buddies)
    assert first.total_cost == 0 and len(first.pairs) == 2
    assert [m.child for m in first.pairs] == [1, 2]
    assert match(children, buddies) == first


def test_same_gender_setting_changes_the_optimum():
    children = [p(1, gender="female"), p(2, gender="male")]
    buddies = [p(10, gender="male"), p(11, gender="female", group="2组")]
    assert match(children, buddies).total_cost == pytest.approx(1)
    w = Weights(same_gender=True)
    assert pairs_of(match(children, buddies, w)) == {(1, 11), (2, 10)}


def test_explanation_is_built_from_the_facts():
    m = Match(1, 2, 0.33, None, True, True, 122)
    assert explain(m) == "同村同组，相差 4 个月"
    assert explain(Match(1, 2, 1.0, None, True, False, 12)) == "同村不同组，相差 12 天"
    assert explain(Match(1, 2, 3.0, 350.0, False, False, 0)) == "不同村，相距 350 米，同一天出生"
    assert explain(Match(1, 2, 3.0, 2345.0, False, False, 400)).startswith("不同村，相距 2.3 公里")


def test_rounded_total_is_the_sum_of_rounded_costs():
    costs = [0.1234564, 0.1234564, 1 / 3]
    assert rounded_total(costs) == round(0.123456 + 0.123456 + 0.333333, 6)


def test_a_large_school_is_solved_optimally_not_greedily():
    import random

    rng = random.Random(7)
    villages = ["虎山村", "板桥村", "古田村", ""]

    def person(i):
        return p(
            i,
            days=rng.randrange(0, 2000),
            village=rng.choice(villages),
            group=f"{rng.randrange(1, 6)}组",
            km=rng.uniform(0, 8) if rng.random() < 0.3 else None,
        )

    children = [person(i) for i in range(150)]
    buddies = [person(1000 + i) for i in range(220)]
    optimal = match(children, buddies)
    for strategy in ("cheapest_edge", "in_order"):
        greedy = greedy_match(children, buddies, strategy=strategy)
        assert len(optimal.pairs) >= len(greedy.pairs)
        if len(optimal.pairs) == len(greedy.pairs):
            assert optimal.total_cost <= greedy.total_cost + 1e-9


# --- properties ------------------------------------------------------------------------------


def exhaustive(children, buddies, weights):
    """(most pairs, least cost among those) by trying every matching."""
    cost, feasible = cost_matrix(children, buddies, weights)
    best = [0, 0.0]

    def walk(i, used, count, total):
        if i == len(children):
            if count > best[0] or (count == best[0] and total < best[1]):
                best[:] = [count, total]
            return
        walk(i + 1, used, count, total)
        for j in range(len(buddies)):
            if j not in used and feasible[i, j]:
                walk(i + 1, used | {j}, count + 1, total + float(cost[i, j]))

    walk(0, frozenset(), 0, 0.0)
    return best[0], best[1]


GROUPS = st.sampled_from(["", "1组", "一组", "2组", "二组", "第二组", "3"])
VILLAGES = st.sampled_from(["", "虎山村", "板桥村"])
COORDS = st.one_of(
    st.none(),
    st.tuples(
        st.floats(min_value=27.0, max_value=27.05, allow_nan=False),
        st.floats(min_value=112.0, max_value=112.05, allow_nan=False),
    ),
)


@st.composite
def people(draw, start, max_size):
    n = draw(st.integers(min_value=0, max_value=max_size))
    out = []
    for k in range(n):
        birth = draw(st.one_of(st.none(), st.integers(0, 1600)))
        xy = draw(COORDS)
        out.append(
            Person(
                id=start + k,
                birth_date=None if birth is None else D0 + dt.timedelta(days=birth),
                village=draw(VILLAGES),
                group=draw(GROUPS),
                lat=xy[0] if xy else None,
                lon=xy[1] if xy else None,
                gender=draw(st.sampled_from(["male", "female"])),
            )
        )
    return out


WEIGHTS = st.builds(Weights, same_gender=st.booleans())


def _check_result(result, children, buddies):
    ids = {c.id for c in children}
    assert [m.child for m in result.pairs] == sorted(m.child for m in result.pairs)
    assert len({m.buddy for m in result.pairs}) == len(result.pairs)
    assert {m.child for m in result.pairs} | set(result.unpaired) == ids
    assert result.unpaired == sorted(result.unpaired)
    assert not {m.child for m in result.pairs} & set(result.unpaired)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(children=people(0, 6), buddies=people(100, 6), weights=WEIGHTS)
def test_matches_exhaustive_search_on_small_inputs(children, buddies, weights):
    result = match(children, buddies, weights)
    _check_result(result, children, buddies)
    count, total = exhaustive(children, buddies, weights)
    assert len(result.pairs) == count
    assert result.total_cost == pytest.approx(total, abs=1e-9)
    for m in result.pairs:
        assert m.age_gap_days <= weights.max_age_gap_days


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(children=people(0, 25), buddies=people(100, 25), weights=WEIGHTS)
def test_never_worse_than_greedy(children, buddies, weights):
    result = match(children, buddies, weights)
    _check_result(result, children, buddies)
    for strategy in ("cheapest_edge", "in_order"):
        greedy = greedy_match(children, buddies, weights, strategy=strategy)
        _check_result(greedy, children, buddies)
        assert len(result.pairs) >= len(greedy.pairs)
        if len(result.pairs) == len(greedy.pairs):
            assert result.total_cost <= greedy.total_cost + 1e-9
