"""The voting methods and measures at scale, each beside a plain sort of the same ballots.

Run: .venv/bin/python -m bench.ranking_methods
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from services.ranking.ballots import positions_of_dots, positions_of_ranking
from services.ranking.measures import concordance, distance, measure
from services.ranking.methods import borda, dot_voting, kemeny, schulze

SEED = 20261123
DOTS = 10


def random_rankings(
    rng: random.Random, voters: int, size: int
) -> tuple[list[str], dict[str, list[str]]]:
    """Seeded full rankings: `voters` shuffles of `size` expectation ids."""
    expectations = [f"E{number:03d}" for number in range(size)]
    ballots = {f"voter-{n:04d}": rng.sample(expectations, size) for n in range(voters)}
    return expectations, ballots


def random_dots(
    rng: random.Random, voters: list[str], expectations: list[str]
) -> dict[str, dict[str, int]]:
    """Seeded allocations of DOTS dots each, dropped one at a time on random expectations."""
    ballots: dict[str, dict[str, int]] = {}
    for voter in voters:
        allocation: dict[str, int] = {}
        for expectation in rng.choices(expectations, k=DOTS):
            allocation[expectation] = allocation.get(expectation, 0) + 1
        ballots[voter] = allocation
    return ballots


def best_of(repeats: int, run: Callable[[], Any]) -> float:
    """The fastest of `repeats` runs, in seconds: the least disturbed by the rest of the machine."""
    fastest = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


def report(title: str, baseline: float, timings: dict[str, float]) -> None:
    """One table: each timing in milliseconds and as a multiple of the baseline."""
    print(f"\n{title}")
    print(f"  {'baseline: sorted() of each ballot':<42} {baseline * 1000:10.2f} ms       1.0x")
    for name, seconds in timings.items():
        print(f"  {name:<42} {seconds * 1000:10.2f} ms {seconds / baseline:10.1f}x")


def at_scale(rng: random.Random) -> None:
    """1,000 voters x 100 expectations."""
    expectations, ballots = random_rankings(rng, 1000, 100)
    allocations = random_dots(rng, list(ballots), expectations)
    baseline = best_of(5, lambda: [sorted(ballot) for ballot in ballots.values()])
    positions = [positions_of_ranking(ballot) for ballot in ballots.values()]
    corporate = list(borda(expectations, ballots).ranking)
    timings = {
        "Borda": best_of(3, lambda: borda(expectations, ballots)),
        "Schulze": best_of(3, lambda: schulze(expectations, ballots)),
        f"dot voting ({DOTS} dots each)": best_of(
            3, lambda: dot_voting(expectations, allocations, DOTS)
        ),
        "ballots to positions": best_of(
            3, lambda: [positions_of_ranking(b) for b in ballots.values()]
        ),
        "Kendall's W": best_of(3, lambda: concordance(expectations, positions)),
        "every voter's distance": best_of(3, lambda: [distance(p, corporate) for p in positions]),
    }
    report("1,000 voters x 100 expectations", baseline, timings)


def closing_a_session(rng: random.Random) -> None:
    """50 voters x 30 expectations: each method with all the measures, as a close runs them."""
    expectations, ballots = random_rankings(rng, 50, 30)
    allocations = random_dots(rng, list(ballots), expectations)

    def close_ranked(method: Callable[..., Any]) -> None:
        result = method(expectations, ballots)
        measure(result.ranking, {voter: positions_of_ranking(b) for voter, b in ballots.items()})

    def close_dots() -> None:
        result = dot_voting(expectations, allocations, DOTS)
        positions = {voter: positions_of_dots(a, expectations) for voter, a in allocations.items()}
        measure(result.ranking, positions)

    baseline = best_of(50, lambda: [sorted(ballot) for ballot in ballots.values()])
    timings = {
        "close with Borda + measures": best_of(20, lambda: close_ranked(borda)),
        "close with Schulze + measures": best_of(20, lambda: close_ranked(schulze)),
        "close with dot voting + measures": best_of(20, close_dots),
    }
    report("closing a session: 50 voters x 30 expectations", baseline, timings)


def kemeny_at_its_limit(rng: random.Random) -> None:
    """50 voters x 9 expectations, the most Kemeny-Young accepts."""
    expectations, ballots = random_rankings(rng, 50, 9)
    baseline = best_of(50, lambda: [sorted(ballot) for ballot in ballots.values()])
    timings = {"Kemeny-Young (exact)": best_of(20, lambda: kemeny(expectations, ballots))}
    report("Kemeny-Young: 50 voters x 9 expectations", baseline, timings)


def main() -> None:
    rng = random.Random(SEED)
    at_scale(rng)
    closing_a_session(rng)
    kemeny_at_its_limit(rng)


if __name__ == "__main__":
    main()
