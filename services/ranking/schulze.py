"""Schulze (beat-path): a Condorcet method ranking by the strongest paths of head-to-head wins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from services.ranking.ballots import RankedBallot, validate_rankings
from services.ranking.result import Method, RankingResult
from services.ranking.tally import tally_rankings
from services.ranking.ties import rank_by_score


def strongest_paths(wins: Sequence[Sequence[int]]) -> list[list[int]]:
    """Widest paths by Floyd-Warshall, O(n^3): a path is as strong as its weakest win.

    A link a->b exists when more voters put a above b than b above a, with strength the number
    who put a above b (winning votes; on full rankings margins would rank identically).
    """
    size = len(wins)
    paths = [
        [wins[a][b] if wins[a][b] > wins[b][a] else 0 for b in range(size)] for a in range(size)
    ]
    for via in range(size):
        from_via = paths[via]
        for start in range(size):
            to_via = paths[start][via]
            if start == via or to_via == 0:
                continue
            # Also updates paths[start][start]; a diagonal entry never changes any other (it is
            # at most the path it would lengthen), and the diagonal is reset below.
            paths[start] = [
                max(direct, to_via if to_via < onward else onward)
                for direct, onward in zip(paths[start], from_via, strict=True)
            ]
    for one in range(size):
        paths[one][one] = 0
    return paths


def schulze(expectations: Sequence[str], ballots: Mapping[str, RankedBallot]) -> RankingResult:
    """Rank by how many others each beats by strongest path; ties by the tie rules.

    a beats b when the strongest path from a to b is stronger than the one back. That relation
    is transitive, so counting whom each beats orders every beaten expectation below its victor,
    and the expectations beaten by nobody (the Schulze winners) come first.
    """
    validate_rankings(expectations, ballots)
    tally = tally_rankings(expectations, ballots)
    paths = strongest_paths(tally.wins)
    size = len(paths)
    scores = [sum(1 for b in range(size) if paths[a][b] > paths[b][a]) for a in range(size)]
    order, ties = rank_by_score(scores, tally)
    names = tally.expectations
    return RankingResult(
        method=Method.SCHULZE,
        ranking=tuple(names[one] for one in order),
        scores={names[one]: score for one, score in enumerate(scores)},
        pairwise=tally.named(tally.wins),
        ties=tuple(ties),
        voters=tally.voters,
        strongest_paths=tally.named(paths),
    )
