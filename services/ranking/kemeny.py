"""Kemeny-Young: the ranking that disagrees least with the ballots, pair by pair, found exactly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from services.ranking.ballots import RankedBallot, distinct_expectations, validate_rankings
from services.ranking.errors import TooManyForKemeny
from services.ranking.result import Method, RankingResult
from services.ranking.tally import Tally, tally_rankings
from services.ranking.ties import TieBreak, break_tie

# Exact search grows as 2^n * n^2; 9 keeps a close in milliseconds and matches what a meeting
# can rank by hand. Larger ballots are refused rather than approximated.
KEMENY_LIMIT = 9


def kemeny(expectations: Sequence[str], ballots: Mapping[str, RankedBallot]) -> RankingResult:
    """The ranking with the fewest voter-pair disagreements (Kendall tau) with all ballots.

    Exact, by dynamic programming over subsets of expectations on the pairwise matrix, not by
    scoring every permutation. When several rankings tie for least disagreement, each place is
    given, from the top, to the expectation the tie rules prefer among those that could take it.
    """
    if len(distinct_expectations(expectations)) > KEMENY_LIMIT:
        raise TooManyForKemeny(len(expectations), KEMENY_LIMIT)
    validate_rankings(expectations, ballots)
    tally = tally_rankings(expectations, ballots)
    order, ties, disagreement = _least_disagreement(tally)
    names = tally.expectations
    scores = _agreement_with_place(tally, order)
    return RankingResult(
        method=Method.KEMENY,
        ranking=tuple(names[one] for one in order),
        scores={names[one]: score for one, score in enumerate(scores)},
        pairwise=tally.named(tally.wins),
        ties=tuple(ties),
        voters=tally.voters,
        disagreement=disagreement,
    )


def _least_disagreement(tally: Tally) -> tuple[list[int], list[TieBreak], int]:
    wins = tally.wins
    size = len(wins)
    full = (1 << size) - 1
    # against[x][group]: voters who put some member of `group` above x, counted per member;
    # the disagreements of placing x directly above all of `group`.
    against = [[0] * (full + 1) for _ in range(size)]
    for x in range(size):
        row = against[x]
        for group in range(1, full + 1):
            lowest = group & -group
            row[group] = row[group ^ lowest] + wins[lowest.bit_length() - 1][x]
    # least[group]: the fewest disagreements among the pairs inside `group`, ordered best.
    least = [0] * (full + 1)
    for group in range(1, full + 1):
        least[group] = min(
            against[x][group ^ (1 << x)] + least[group ^ (1 << x)]
            for x in range(size)
            if group >> x & 1
        )
    order: list[int] = []
    ties: list[TieBreak] = []
    remaining = full
    while remaining:
        could_lead = [
            x
            for x in range(size)
            if remaining >> x & 1
            and against[x][remaining ^ (1 << x)] + least[remaining ^ (1 << x)] == least[remaining]
        ]
        preferred, steps = break_tie(could_lead, tally, len(order) + 1)
        chosen = preferred[0]
        # Only the steps that decided this place explain it; the rest compete again below.
        ties.extend(step for step in steps if tally.expectations[chosen] in step.candidates)
        order.append(chosen)
        remaining ^= 1 << chosen
    return order, ties, least[full]


def _agreement_with_place(tally: Tally, order: Sequence[int]) -> list[int]:
    wins = tally.wins
    scores = [0] * len(order)
    for place, one in enumerate(order):
        scores[one] = sum(wins[one][below] for below in order[place + 1 :]) + sum(
            wins[above][one] for above in order[:place]
        )
    return scores
