"""The inspection sample (档案随机走访): which children the inspectors visit. Pure, no ORM.

The draw is a pure function of a seed and the ordered list of eligible children (id, grade), so
anyone holding the stored list can re-derive it and see that nobody chose the children. Nothing
here depends on Python's `random` (whose streams may change between versions): children are
ranked inside their grade by SHA-256 of the seed and their id, and grades share the seats in
proportion to their size by the largest-remainder rule, ties broken by SHA-256 of the seed and
the grade. When the sample has at least as many seats as there are grades, every grade gets at
least one, taken from the grade furthest above its share.
"""

import hashlib
import secrets
from collections.abc import Sequence
from fractions import Fraction


def new_seed() -> str:
    """A fresh seed, short enough to read out and type again: 12 digits in groups of four (no
    letters, which read as English words on a Chinese page)."""
    digits = f"{secrets.randbelow(10**12):012d}"
    return "-".join(digits[i : i + 4] for i in range(0, 12, 4))


def _digest(seed: str, key: str) -> str:
    return hashlib.sha256(f"{seed}\x1f{key}".encode()).hexdigest()


def strata(eligible: Sequence[tuple[int, int]]) -> dict[int, list[int]]:
    """Child ids by grade, each grade's ids in the list's order; grades ascending."""
    out: dict[int, list[int]] = {}
    for child, grade in eligible:
        out.setdefault(grade, []).append(child)
    return dict(sorted(out.items()))


def allocate(seed: str, sizes: dict[int, int], n: int) -> dict[int, int]:
    """Seats per grade for a sample of `n` out of grades of `sizes` (n below their total):
    largest remainder on the proportional shares, then a seat for every empty grade when n
    allows, moved from the grade furthest above its share that keeps at least one."""
    total = sum(sizes.values())
    seats = {g: n * s // total for g, s in sizes.items()}
    left = n - sum(seats.values())
    # Largest remainder first; equal remainders in an order fixed by the seed, not the grade.
    order = sorted(sizes, key=lambda g: (-(n * sizes[g] % total), _digest(seed, f"grade:{g}")))
    for g in order[:left]:
        seats[g] += 1
    if n >= len(sizes):
        for g in sorted(sizes, key=lambda g: _digest(seed, f"grade:{g}")):
            if seats[g]:
                continue
            donors = [d for d in sizes if seats[d] >= 2]
            donor = max(
                donors,
                key=lambda d: (
                    Fraction(seats[d]) - Fraction(n * sizes[d], total),
                    _digest(seed, f"grade:{d}"),
                ),
            )
            seats[donor] -= 1
            seats[g] = 1
    return seats


def draw(seed: str, eligible: Sequence[tuple[int, int]], n: int) -> list[int]:
    """The sample: child ids by grade ascending, and inside a grade in the seed's order.

    `eligible` is [(child id, grade)] as stored with the inspection; with `n` at least its
    length every child is taken."""
    if n <= 0:
        return []
    groups = strata(eligible)
    if n >= len(eligible):
        seats = {g: len(ids) for g, ids in groups.items()}
    else:
        seats = allocate(seed, {g: len(ids) for g, ids in groups.items()}, n)
    sample: list[int] = []
    for grade, ids in groups.items():
        ranked = sorted(dict.fromkeys(ids), key=lambda c: _digest(seed, str(c)))
        sample.extend(ranked[: seats[grade]])
    return sample
