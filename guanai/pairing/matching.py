"""Optimal buddy matching (结对帮扶) — pure: no ORM, no Django, only numpy and scipy.

The rules (SPEC §6.1):

- a pair joins a child to pair (left-behind or 随迁) with a buddy; both need a birth date and
  their age gap is at most `max_age_gap_days` (730); with `same_gender` their genders must be
  equal (and known);
- cost = distance term × `distance_weight` + |age gap in days| / 365 × `age_weight`, where the
  distance term is the great-circle distance in km when both homes have coordinates, else
  0 same 村 and same 组, 1 same 村 other 组, 3 other 村 or either 村 blank;
- the objective is lexicographic: first as many pairs as possible, then the least total cost.

It is solved exactly as an assignment problem (`scipy.optimize.linear_sum_assignment`): infeasible
cells get a cost larger than any sum of feasible costs, so an assignment that uses one more
infeasible cell is always worse than any assignment with one fewer — maximising the number of
feasible pairs dominates, and among those the feasible cost is minimised. Infeasible cells are then
dropped from the assignment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.optimize import linear_sum_assignment

from guanai.lib.numerals import parse_numeral
from guanai.lib.villages import normalize_village

EARTH_RADIUS_KM = 6371.0
DAYS_PER_YEAR = 365.0
COST_DECIMALS = 6
BLOCK_CELLS = 1 << 18  # cells per block of the cost matrix (2 MB a float temporary)


@dataclass(frozen=True, slots=True)
class Person:
    """One child as the matcher sees them. `id` is opaque (the Child primary key)."""

    id: int
    birth_date: dt.date | None
    village: str = ""
    group: str = ""
    lat: float | None = None
    lon: float | None = None
    gender: str = ""


@dataclass(frozen=True, slots=True)
class Weights:
    """The objective's parameters; the defaults are SPEC §6.1."""

    distance_weight: float = 1.0
    age_weight: float = 1.0
    max_age_gap_days: int = 730
    same_gender: bool = False
    same_group_term: float = 0.0
    same_village_term: float = 1.0
    other_village_term: float = 3.0


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True, slots=True)
class Match:
    """One proposed pair with the facts its cost was built from."""

    child: int
    buddy: int
    cost: float
    distance_m: float | None
    same_village: bool
    same_group: bool
    age_gap_days: int


@dataclass(slots=True)
class MatchResult:
    """Pairs ordered by child id; `unpaired` = children left without a buddy, ids ascending."""

    pairs: list[Match] = field(default_factory=list)
    unpaired: list[int] = field(default_factory=list)

    @property
    def total_cost(self) -> float:
        return float(sum(p.cost for p in self.pairs))


# --- normalisation -----------------------------------------------------------------------------

_GROUP_SUFFIXES = ("村民小组", "村民组", "小组", "组")


def normalize_group(value: str | None) -> str:
    """`1组`, `一组`, `第一组`, `01`, `１组`, `1村民小组` → `1`; other names kept as typed (NFKC)."""
    text = normalize_village(value)
    for suffix in _GROUP_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    text = text.removeprefix("第")
    number = parse_numeral(text, digit_by_digit=True)
    return str(number) if number is not None else text


# --- the cost model ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Side:
    birth: np.ndarray  # int64 ordinal; 0 when unknown
    has_birth: np.ndarray  # bool
    lat: np.ndarray  # radians; 0 when unknown
    lon: np.ndarray
    has_xy: np.ndarray  # bool
    village: np.ndarray  # int code; -1 blank
    group: np.ndarray  # int code of (village, group); -1 when the village is blank
    gender: np.ndarray  # int code; -1 blank


def _encode(children: Sequence[Person], buddies: Sequence[Person]) -> tuple[_Side, _Side]:
    """Both sides as numpy arrays, with village/group/gender codes shared between the sides."""
    villages: dict[str, int] = {}
    groups: dict[tuple[str, str], int] = {}
    genders: dict[str, int] = {}

    def side(people: Sequence[Person]) -> _Side:
        n = len(people)
        birth = np.zeros(n, dtype=np.int64)
        has_birth = np.zeros(n, dtype=bool)
        lat = np.zeros(n)
        lon = np.zeros(n)
        has_xy = np.zeros(n, dtype=bool)
        village = np.full(n, -1, dtype=np.int64)
        group = np.full(n, -1, dtype=np.int64)
        gender = np.full(n, -1, dtype=np.int64)
        for i, p in enumerate(people):
            if p.birth_date is not None:
                birth[i] = p.birth_date.toordinal()
                has_birth[i] = True
            if p.lat is not None and p.lon is not None:
                lat[i] = np.radians(float(p.lat))
                lon[i] = np.radians(float(p.lon))
                has_xy[i] = True
            v = normalize_village(p.village)
            if v:
                village[i] = villages.setdefault(v, len(villages))
                # 组 compared as written after normalisation: two blank 组 of one 村 are equal
                # (SPEC only gives a blank 村 its own rule).
                g = normalize_group(p.group)
                group[i] = groups.setdefault((v, g), len(groups))
            sex = (p.gender or "").strip()
            if sex:
                gender[i] = genders.setdefault(sex, len(genders))
        return _Side(birth, has_birth, lat, lon, has_xy, village, group, gender)

    return side(children), side(buddies)


@dataclass(slots=True)
class _Terms:
    cost: np.ndarray
    feasible: np.ndarray
    gap: np.ndarray
    same_village: np.ndarray
    same_group: np.ndarray
    has_xy: np.ndarray
    distance_km: np.ndarray


def _evaluate(c: _Side, b: _Side, ci: np.ndarray, bj: np.ndarray, w: Weights) -> _Terms:
    """Cost and facts of child `ci` with buddy `bj`, element-wise after broadcasting.

    With `ci` a column and `bj` a row this is the whole cost matrix; with two aligned vectors it
    is a list of pairs. One code path, so a single pair's cost always equals its matrix cell.
    """
    gap = np.abs(c.birth[ci] - b.birth[bj])
    feasible = c.has_birth[ci] & b.has_birth[bj] & (gap <= w.max_age_gap_days)
    if w.same_gender:
        feasible &= (c.gender[ci] == b.gender[bj]) & (c.gender[ci] >= 0)
    same_village = (c.village[ci] == b.village[bj]) & (c.village[ci] >= 0)
    same_group = (c.group[ci] == b.group[bj]) & (c.group[ci] >= 0)
    term = np.where(
        same_group,
        w.same_group_term,
        np.where(same_village, w.same_village_term, w.other_village_term),
    )
    has_xy = c.has_xy[ci] & b.has_xy[bj]
    distance_km = np.zeros(np.broadcast_shapes(np.shape(ci), np.shape(bj)))
    if has_xy.any():
        # Haversine, in place: a school's matrix is millions of cells, so spare the temporaries.
        lat1, lat2 = c.lat[ci], b.lat[bj]
        h = np.subtract(lat2, lat1)
        h *= 0.5
        np.sin(h, out=h)
        np.square(h, out=h)
        s = np.subtract(b.lon[bj], c.lon[ci])
        s *= 0.5
        np.sin(s, out=s)
        np.square(s, out=s)
        s *= np.cos(lat1)
        s *= np.cos(lat2)
        h += s
        del s
        np.clip(h, 0.0, 1.0, out=h)
        np.sqrt(h, out=h)
        np.arcsin(h, out=h)
        h *= 2.0 * EARTH_RADIUS_KM
        distance_km = h
        term = np.where(has_xy, distance_km, term)
    cost = gap / DAYS_PER_YEAR
    cost *= w.age_weight
    term = term * w.distance_weight
    cost += term
    del term
    return _Terms(cost, feasible, gap, same_village, same_group, has_xy, distance_km)


def cost_matrix(
    children: Sequence[Person], buddies: Sequence[Person], weights: Weights = DEFAULT_WEIGHTS
) -> tuple[np.ndarray, np.ndarray]:
    """(cost, feasible): two len(children) × len(buddies) arrays, vectorised.

    Built in blocks of rows so that the temporaries stay a few MB whatever the school's size.
    """
    c, b = _encode(children, buddies)
    n, m = len(children), len(buddies)
    cost = np.empty((n, m))
    feasible = np.empty((n, m), dtype=bool)
    cols = np.arange(m)[None, :]
    step = max(1, BLOCK_CELLS // max(m, 1))
    for start in range(0, n, step):
        stop = min(n, start + step)
        t = _evaluate(c, b, np.arange(start, stop)[:, None], cols, weights)
        cost[start:stop] = t.cost
        feasible[start:stop] = t.feasible
    return cost, feasible


def evaluate_pair(child: Person, buddy: Person, weights: Weights = DEFAULT_WEIGHTS) -> Match | None:
    """The pair's cost and facts, or None when the rules forbid it."""
    zero = np.zeros(1, dtype=int)
    found = _matches([child], [buddy], zero, zero, weights, keep_infeasible=False)
    return found[0] if found else None


def _matches(
    children: Sequence[Person],
    buddies: Sequence[Person],
    rows: np.ndarray,
    cols: np.ndarray,
    weights: Weights,
    *,
    keep_infeasible: bool,
) -> list[Match]:
    """Facts of the aligned pairs (rows[k], cols[k]); infeasible ones dropped unless asked."""
    c, b = _encode(children, buddies)
    t = _evaluate(c, b, rows, cols, weights)
    out = []
    for k in range(len(rows)):
        if not keep_infeasible and not t.feasible[k]:
            continue
        out.append(
            Match(
                child=children[int(rows[k])].id,
                buddy=buddies[int(cols[k])].id,
                cost=float(t.cost[k]),
                distance_m=round(float(t.distance_km[k]) * 1000.0, 1) if t.has_xy[k] else None,
                same_village=bool(t.same_village[k]),
                same_group=bool(t.same_group[k]),
                age_gap_days=int(t.gap[k]),
            )
        )
    return out


def _result(
    children: Sequence[Person],
    buddies: Sequence[Person],
    rows: np.ndarray,
    cols: np.ndarray,
    weights: Weights,
) -> MatchResult:
    pairs = sorted(
        _matches(children, buddies, rows, cols, weights, keep_infeasible=False),
        key=lambda m: m.child,
    )
    paired = {m.child for m in pairs}
    return MatchResult(pairs=pairs, unpaired=sorted(p.id for p in children if p.id not in paired))


def match(
    children: Sequence[Person], buddies: Sequence[Person], weights: Weights = DEFAULT_WEIGHTS
) -> MatchResult:
    """The optimal pairing: most pairs, then least total cost (see the module docstring)."""
    cost, feasible = cost_matrix(children, buddies, weights)
    rows_idx = np.flatnonzero(feasible.any(axis=1)) if cost.size else np.zeros(0, dtype=int)
    cols_idx = np.flatnonzero(feasible.any(axis=0)) if cost.size else np.zeros(0, dtype=int)
    if len(rows_idx) == 0 or len(cols_idx) == 0:
        return _result(children, buddies, np.zeros(0, int), np.zeros(0, int), weights)
    if len(rows_idx) < cost.shape[0] or len(cols_idx) < cost.shape[1]:
        # Children and buddies who can pair with nobody only make the problem bigger.
        sub_cost = cost[np.ix_(rows_idx, cols_idx)]
        sub_feasible = feasible[np.ix_(rows_idx, cols_idx)]
    else:
        sub_cost, sub_feasible = cost, feasible
    del cost
    # Any assignment uses k = min(rows, cols) cells, so its feasible part costs at most
    # k × max_cost < big: one infeasible cell more always loses. Costs are small floats, so big
    # stays far from the range where float64 would lose the cost's precision.
    max_cost = float(np.max(sub_cost, where=sub_feasible, initial=0.0))
    big = min(sub_cost.shape) * max_cost + 1.0
    np.putmask(sub_cost, ~sub_feasible, big)  # sub_cost is ours: no second matrix
    r, c = linear_sum_assignment(sub_cost)
    keep = sub_feasible[r, c]
    return _result(children, buddies, rows_idx[r[keep]], cols_idx[c[keep]], weights)


def greedy_match(
    children: Sequence[Person],
    buddies: Sequence[Person],
    weights: Weights = DEFAULT_WEIGHTS,
    *,
    strategy: Literal["cheapest_edge", "in_order"] = "cheapest_edge",
) -> MatchResult:
    """A greedy baseline, for benchmarks and tests — never for proposals.

    `cheapest_edge` takes feasible pairs cheapest first while both are free; `in_order` gives each
    child in turn (by id) the cheapest buddy still free — what a teacher with a list would do.
    """
    cost, feasible = cost_matrix(children, buddies, weights)
    used_rows: set[int] = set()
    used_cols: set[int] = set()
    rows: list[int] = []
    cols: list[int] = []
    if strategy == "in_order":
        masked = np.where(feasible, cost, np.inf)
        for i in sorted(range(len(children)), key=lambda k: children[k].id):
            row = masked[i].copy()
            if used_cols:
                row[list(used_cols)] = np.inf
            j = int(np.argmin(row)) if row.size else 0
            if row.size and np.isfinite(row[j]):
                rows.append(i)
                cols.append(j)
                used_cols.add(j)
    else:
        ri, cj = np.nonzero(feasible)
        order = np.argsort(cost[ri, cj], kind="stable")
        limit = min(len(np.unique(ri)), len(np.unique(cj)))
        for k in order:
            i, j = int(ri[k]), int(cj[k])
            if i in used_rows or j in used_cols:
                continue
            used_rows.add(i)
            used_cols.add(j)
            rows.append(i)
            cols.append(j)
            if len(rows) == limit:
                break
    return _result(children, buddies, np.array(rows, dtype=int), np.array(cols, dtype=int), weights)


# --- presentation helpers (pure) ---------------------------------------------------------------


def round_cost(value: float) -> float:
    """Costs are shown and stored to 6 decimals."""
    return round(float(value), COST_DECIMALS)


def rounded_total(costs: Sequence[float]) -> float:
    """The total of the rounded costs, so that it equals the sum shown pair by pair."""
    return round(float(sum(round_cost(c) for c in costs)), COST_DECIMALS)


def explain(m: Match) -> str:
    """The pair in a teacher's words, from its facts: `同村同组，相差 4 个月`."""
    parts = []
    if m.same_group:
        parts.append("同村同组")
    elif m.same_village:
        parts.append("同村不同组")
    else:
        parts.append("不同村")
    if m.distance_m is not None:
        if m.distance_m < 1000:
            parts.append(f"相距 {m.distance_m:.0f} 米")
        else:
            parts.append(f"相距 {m.distance_m / 1000:.1f} 公里")
    days = m.age_gap_days
    if days == 0:
        parts.append("同一天出生")
    elif days < 30:
        parts.append(f"相差 {days} 天")
    else:
        parts.append(f"相差 {round(days / 30.4375)} 个月")
    return "，".join(parts)
