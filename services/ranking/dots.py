"""Dot voting (cumulative): each voter spreads the same number of dots; most dots ranks first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from services.ranking.ballots import DotBallot, validate_allocations
from services.ranking.result import Method, RankingResult
from services.ranking.tally import tally_dots
from services.ranking.ties import rank_by_score


def dot_voting(
    expectations: Sequence[str], ballots: Mapping[str, DotBallot], dots: int
) -> RankingResult:
    """Rank by total dots; ties by the tie rules (head-to-head: more dots from more voters)."""
    validate_allocations(expectations, ballots, dots)
    tally = tally_dots(expectations, ballots)
    names = tally.expectations
    scores = [sum(allocation.get(name, 0) for allocation in ballots.values()) for name in names]
    order, ties = rank_by_score(scores, tally)
    return RankingResult(
        method=Method.DOTS,
        ranking=tuple(names[one] for one in order),
        scores={names[one]: score for one, score in enumerate(scores)},
        pairwise=tally.named(tally.wins),
        ties=tuple(ties),
        voters=tally.voters,
    )
