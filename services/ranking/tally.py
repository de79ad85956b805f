"""The counts every method and tie rule reads: who is preferred to whom, and who comes first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.ranking.ballots import DotBallot, RankedBallot, distinct_expectations


@dataclass(frozen=True)
class Tally:
    """Counts over all ballots, with expectations indexed in id order."""

    expectations: tuple[str, ...]
    # wins[a][b]: how many voters put expectation a above expectation b.
    wins: list[list[int]]
    # first_places[a]: how many voters put a first (with dots: gave a their most dots).
    first_places: list[int]
    voters: int

    def beats(self, a: int, b: int) -> bool:
        """More voters put a above b than b above a."""
        return self.wins[a][b] > self.wins[b][a]

    def named(self, matrix: Sequence[Sequence[int]]) -> dict[str, dict[str, int]]:
        """A square matrix by expectation id, without the meaningless diagonal."""
        names = self.expectations
        return {
            names[a]: {names[b]: value for b, value in enumerate(row) if b != a}
            for a, row in enumerate(matrix)
        }


def tally_rankings(expectations: Sequence[str], ballots: Mapping[str, RankedBallot]) -> Tally:
    """Pairwise wins and first places from full rankings, in O(voters x expectations^2)."""
    names = distinct_expectations(expectations)
    index = {name: i for i, name in enumerate(names)}
    size = len(names)
    wins = [[0] * size for _ in range(size)]
    first_places = [0] * size
    for ranking in ballots.values():
        order = [index[name] for name in ranking]
        if order:
            first_places[order[0]] += 1
        for place, winner in enumerate(order):
            row = wins[winner]
            for loser in order[place + 1 :]:
                row[loser] += 1
    return Tally(names, wins, first_places, len(ballots))


def tally_dots(expectations: Sequence[str], ballots: Mapping[str, DotBallot]) -> Tally:
    """Pairwise wins (more dots beats fewer) and first places (most dots) from allocations."""
    names = distinct_expectations(expectations)
    size = len(names)
    wins = [[0] * size for _ in range(size)]
    first_places = [0] * size
    for allocation in ballots.values():
        # Group by dots given: most expectations share a level (often zero), so one pass per
        # level replaces a comparison per pair of equals.
        levels: dict[int, list[int]] = {}
        for i, name in enumerate(names):
            levels.setdefault(allocation.get(name, 0), []).append(i)
        below: list[int] = []
        for given in sorted(levels):
            for winner in levels[given]:
                row = wins[winner]
                for loser in below:
                    row[loser] += 1
            below.extend(levels[given])
        if levels:
            for top in levels[max(levels)]:
                first_places[top] += 1
    return Tally(names, wins, first_places, len(ballots))
