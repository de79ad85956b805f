"""How much the group agrees, how far each voter sits from the corporate ranking, what divides them.

The rules, as a facilitator would state them:
- Agreement is Kendall's coefficient of concordance W, from 0 (no agreement) to 1 (identical
  ballots). Dot ballots become positions with tied expectations sharing their average position,
  and W takes the standard correction for those ties.
- A voter's distance is the share of the pairs of expectations the voter ordered that the
  corporate ranking orders the other way: the normalised Kendall tau distance, 0 (same order)
  to 1 (exact reverse). Pairs a dot ballot leaves level express no preference and are not
  counted.
- A voter is flagged as furthest when their distance is more than one standard deviation
  above the group's mean distance: an agreeing group has no one flagged, and neither has a
  group of two (the further of two is exactly one deviation above their mean).
- An expectation's spread is the standard deviation of its positions across the ballots. The
  most contested are the three with the widest spread, all of them if several tie for third,
  and never one on which every ballot agrees (spread 0).
Standard deviations here are of the population: they describe these ballots, not a sample.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import sqrt
from typing import Any

from services.ranking.ballots import Positions

# Distances and spreads are ratios of small integers; a float equal to the threshold must not
# be flagged because of rounding in the mean and deviation.
_TOLERANCE = 1e-9
# Enough to steer a discussion in the meeting; the full spread is published beside it.
MOST_CONTESTED = 3


@dataclass(frozen=True)
class Agreement:
    """What the measures say about one closed session's ballots against its corporate ranking."""

    concordance: float
    distances: dict[str, float]
    furthest: tuple[str, ...]
    spread: dict[str, float]
    most_contested: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "concordance": self.concordance,
            "distances": dict(self.distances),
            "furthest": list(self.furthest),
            "spread": dict(self.spread),
            "most_contested": list(self.most_contested),
        }


def measure(corporate: Sequence[str], ballots: Mapping[str, Positions]) -> Agreement:
    """All the measures at once, for the ballots (by voter) against the corporate ranking."""
    distances = {voter: distance(positions, corporate) for voter, positions in ballots.items()}
    spread = position_spread(corporate, list(ballots.values()))
    return Agreement(
        concordance=concordance(corporate, list(ballots.values())),
        distances=distances,
        furthest=standing_out(distances),
        spread=spread,
        most_contested=widest(spread),
    )


def concordance(expectations: Sequence[str], ballots: Sequence[Positions]) -> float:
    """Kendall's W with the tie correction; 1.0 when there is nothing to disagree about."""
    raters = len(ballots)
    items = len(expectations)
    if raters == 0 or items < 2:
        return 1.0
    totals = [sum(positions[name] for positions in ballots) for name in expectations]
    mean = raters * (items + 1) / 2
    deviation = sum((total - mean) ** 2 for total in totals)
    # Each group of t tied positions on a ballot reduces the most spread possible by t^3 - t.
    ties = sum(
        sum(t**3 - t for t in Counter(positions[name] for name in expectations).values())
        for positions in ballots
    )
    most = raters**2 * (items**3 - items) - raters * ties
    if most == 0:
        # Every ballot ties everything: they are identical, with nothing to order.
        return 1.0
    return 12 * deviation / most


def distance(positions: Positions, corporate: Sequence[str]) -> float:
    """Normalised Kendall tau distance from one ballot to the corporate ranking, O(n log n)."""
    place = {name: at for at, name in enumerate(corporate)}
    # In the ballot's order (ties in corporate order, so they never count), each expectation
    # that the corporate ranking puts above one already seen is a pair the two order apart.
    ordered = sorted(corporate, key=lambda name: (positions[name], place[name]))
    seen: list[int] = []
    apart = 0
    for name in ordered:
        at = place[name]
        index = bisect_right(seen, at)
        apart += len(seen) - index
        seen.insert(index, at)
    level_pairs = sum(t * (t - 1) // 2 for t in Counter(positions.values()).values())
    ordered_pairs = len(corporate) * (len(corporate) - 1) // 2 - level_pairs
    return apart / ordered_pairs if ordered_pairs else 0.0


def position_spread(expectations: Sequence[str], ballots: Sequence[Positions]) -> dict[str, float]:
    """Each expectation's standard deviation of position across the ballots."""
    return {name: _deviation([positions[name] for positions in ballots]) for name in expectations}


def standing_out(values: Mapping[str, float]) -> tuple[str, ...]:
    """The keys more than one standard deviation above the mean, highest first, ties by key."""
    if not values:
        return ()
    numbers = list(values.values())
    mean = sum(numbers) / len(numbers)
    threshold = mean + _deviation(numbers) + _TOLERANCE
    return tuple(
        sorted(
            (key for key, value in values.items() if value > threshold),
            key=lambda key: (-values[key], key),
        )
    )


def widest(spread: Mapping[str, float], count: int = MOST_CONTESTED) -> tuple[str, ...]:
    """The `count` widest spreads above zero, widest first, with every tie for the last place."""
    ordered = sorted(
        (name for name, value in spread.items() if value > _TOLERANCE),
        key=lambda name: (-spread[name], name),
    )
    if len(ordered) <= count:
        return tuple(ordered)
    cut = spread[ordered[count - 1]] - _TOLERANCE
    return tuple(name for name in ordered if spread[name] >= cut)


def _deviation(numbers: Sequence[float]) -> float:
    if not numbers:
        return 0.0
    mean = sum(numbers) / len(numbers)
    return sqrt(sum((number - mean) ** 2 for number in numbers) / len(numbers))
