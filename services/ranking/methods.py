"""The voting methods, turning the decision makers' ballots into one corporate ranking.

Ranked ballots: Borda, Schulze and Kemeny-Young. Allocations of dots: dot voting. Every method
breaks ties by the rules in services.ranking.ties and counts nothing but the ballots.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from services.ranking.ballots import RankedBallot
from services.ranking.borda import borda
from services.ranking.dots import dot_voting
from services.ranking.kemeny import KEMENY_LIMIT, kemeny
from services.ranking.result import Method, RankingResult
from services.ranking.schulze import schulze

RankedMethod = Callable[[Sequence[str], Mapping[str, RankedBallot]], RankingResult]

# The methods that count full rankings; dot voting counts allocations, through dot_voting.
RANKED_METHODS: Mapping[Method, RankedMethod] = {
    Method.BORDA: borda,
    Method.SCHULZE: schulze,
    Method.KEMENY: kemeny,
}

__all__ = [
    "KEMENY_LIMIT",
    "RANKED_METHODS",
    "Method",
    "RankedMethod",
    "RankingResult",
    "borda",
    "dot_voting",
    "kemeny",
    "schulze",
]
