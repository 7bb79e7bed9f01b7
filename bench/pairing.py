"""Pairing a 3,000-child school: cost matrix + optimal solve, against greedy baselines.

    .venv/bin/python bench/pairing.py [--children 1200] [--buddies 1800] [--seed 1] [--repeat 3]

Pure-function level (no database): what `propose_pairs` spends between reading the cards and
writing the drafts. Prints time (best of --repeat), the optimum's cost against two greedy
baselines, and peak memory (tracemalloc for Python/numpy allocations, and the process's peak RSS).
Target (issue 5): ≤ 2 s for the whole school on the 2-core reference machine.
"""

import argparse
import datetime as dt
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from guanai.pairing.matching import (
    Person,
    cost_matrix,
    greedy_match,
    match,
)

VILLAGES = [
    f"{name}村"
    for name in [
        "虎山",
        "板桥",
        "古田",
        "石门",
        "桐木",
        "梅塘",
        "白水",
        "青龙",
        "上湾",
        "下湾",
        "黄泥",
        "新屋",
    ]
]
GROUP_SPELLINGS = ["{}组", "{}组", "{}", "第{}组"]
CN = "一二三四五六七八九十"


def make_people(rng: random.Random, start: int, n: int) -> list[Person]:
    """Primary-school ages (6 birth years), 12 villages × up to 10 groups, 30 % with coordinates
    near the village centre, a few blanks — roughly what a town's roster holds."""
    centres = {v: (27.0 + rng.uniform(0, 0.15), 112.0 + rng.uniform(0, 0.15)) for v in VILLAGES}
    people = []
    for k in range(n):
        village = rng.choice(VILLAGES) if rng.random() > 0.03 else ""
        number = rng.randrange(1, 11)
        spelling = rng.choice(GROUP_SPELLINGS)
        group = spelling.format(CN[number - 1] if rng.random() < 0.4 else number)
        lat = lon = None
        if village and rng.random() < 0.3:
            clat, clon = centres[village]
            lat, lon = clat + rng.gauss(0, 0.01), clon + rng.gauss(0, 0.01)
        birth = None
        if rng.random() > 0.01:
            birth = dt.date(2014, 9, 1) + dt.timedelta(days=rng.randrange(6 * 365))
        people.append(
            Person(
                id=start + k,
                birth_date=birth,
                village=village,
                group=group,
                lat=lat,
                lon=lon,
                gender=rng.choice(["male", "female"]),
            )
        )
    return people


def timed(fn, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=1200, help="children to pair")
    parser.add_argument("--buddies", type=int, default=1800, help="possible buddies")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    children = make_people(rng, 1, args.children)
    buddies = make_people(rng, 100_000, args.buddies)
    n, m = len(children), len(buddies)
    print(f"school: {n + m} children — {n} to pair, {m} possible buddies (seed {args.seed})")

    t_matrix, _ = timed(lambda: cost_matrix(children, buddies), args.repeat)
    t_optimal, optimal = timed(lambda: match(children, buddies), args.repeat)
    tracemalloc.start()  # a separate run: tracing slows allocation down
    match(children, buddies)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"cost matrix alone        {t_matrix:6.3f} s  ({n}×{m})")
    print(
        f"optimal (matrix + solve) {t_optimal:6.3f} s  {len(optimal.pairs)} pairs, "
        f"{len(optimal.unpaired)} unpaired, total cost {optimal.total_cost:.3f}"
        f"   target ≤ 2 s: {'ok' if t_optimal <= 2 else 'MISSED'}"
    )
    for strategy, label in (
        ("cheapest_edge", "greedy, cheapest pair first"),
        ("in_order", "greedy, each child in turn"),
    ):
        t_greedy, greedy = timed(
            lambda s=strategy: greedy_match(children, buddies, strategy=s), args.repeat
        )
        ratio = greedy.total_cost / optimal.total_cost if optimal.total_cost else float("nan")
        print(
            f"{label:<27}{t_greedy:6.3f} s  {len(greedy.pairs)} pairs, total cost "
            f"{greedy.total_cost:.3f} = {ratio:.3f} × optimal"
            + (
                f" ({len(optimal.pairs) - len(greedy.pairs)} fewer pairs)"
                if len(greedy.pairs) < len(optimal.pairs)
                else ""
            )
        )
    print(f"peak memory: {peak / 2**20:.0f} MB traced (numpy + Python), {rss_mb:.0f} MB peak RSS")


if __name__ == "__main__":
    main()
