"""Borda count: on each ballot, an expectation earns a point for each one ranked below it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from services.ranking.ballots import RankedBallot, validate_rankings
from services.ranking.result import Method, RankingResult
from services.ranking.tally import tally_rankings
from services.ranking.ties import rank_by_score


def borda(expectations: Sequence[str], ballots: Mapping[str, RankedBallot]) -> RankingResult:
    """Rank by Borda points (n-1 for a first place down to 0 for last), ties by the tie rules."""
    validate_rankings(expectations, ballots)
    tally = tally_rankings(expectations, ballots)
    # On full rankings, the points of a are the voters putting a above each other expectation:
    # its row of the pairwise matrix, summed.
    scores = [sum(row) for row in tally.wins]
    order, ties = rank_by_score(scores, tally)
    names = tally.expectations
    return RankingResult(
        method=Method.BORDA,
        ranking=tuple(names[one] for one in order),
        scores={names[one]: score for one, score in enumerate(scores)},
        pairwise=tally.named(tally.wins),
        ties=tuple(ties),
        voters=tally.voters,
    )
