"""The corporate ranking a method produces, with everything a facilitator needs to explain it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.ranking.ties import TieBreak
from shared.commands.ranking import Method

__all__ = ["Method", "RankingResult"]


@dataclass(frozen=True)
class RankingResult:
    """One ranking of the expectations, most important first, and the counts behind it.

    `scores` depend on the method, and a higher score never ranks lower except under Kemeny-Young:
    - borda: Borda points, on each ballot the number of expectations ranked below it, summed;
    - schulze: how many other expectations it beats by strongest path;
    - kemeny: voter-pairs that agree with its place (pairs with it that a ballot orders as the
      corporate ranking does); the ranking itself minimises the total `disagreement`;
    - dots: total dots received.
    """

    method: Method
    ranking: tuple[str, ...]
    scores: dict[str, int]
    # pairwise[a][b]: how many voters put a above b (with dots: gave a more dots than b).
    pairwise: dict[str, dict[str, int]]
    ties: tuple[TieBreak, ...]
    voters: int
    # Schulze only: strongest_paths[a][b], the strength of the strongest path from a to b
    # (the weakest head-to-head win along it), 0 when there is no path of wins.
    strongest_paths: dict[str, dict[str, int]] | None = None
    # Kemeny-Young only: voter-pairs on which the ballots disagree with the ranking, the minimum.
    disagreement: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "method": self.method.value,
            "ranking": list(self.ranking),
            "scores": dict(self.scores),
            "pairwise": {a: dict(row) for a, row in self.pairwise.items()},
            "ties": [tie.as_dict() for tie in self.ties],
            "voters": self.voters,
            "strongest_paths": None
            if self.strongest_paths is None
            else {a: dict(row) for a, row in self.strongest_paths.items()},
            "disagreement": self.disagreement,
        }
