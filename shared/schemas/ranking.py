"""Published events of the ranking service, on `accord.ranking.v1`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from shared.schemas.registry import EventContract, contract

SERVICE = "ranking"
CONTRACT = "7d0b3c52-9a1e-4f7e-8c1d-2f5a6b7c8d9e"
E1, E2, E3 = "exp-availability", "exp-response-time", "exp-cost-report"

Method = Literal["borda", "schulze", "kemeny", "dots"]


class TieBreak(BaseModel):
    """One step of breaking a tie: who was level for which place, the rule, the order it made."""

    model_config = ConfigDict(frozen=True)

    position: int
    candidates: list[str]
    rule: Literal["head_to_head", "first_places", "expectation_id"]
    values: dict[str, int]
    order: list[list[str]]


class Count(BaseModel):
    """Everything a facilitator is asked about: scores, pairwise wins, ties and their breaking."""

    model_config = ConfigDict(frozen=True)

    method: Method
    ranking: list[str]
    scores: dict[str, int]
    pairwise: dict[str, dict[str, int]]
    ties: list[TieBreak]
    voters: int
    strongest_paths: dict[str, dict[str, int]] | None = None
    disagreement: int | None = None


class Agreement(BaseModel):
    """How far the group agrees (Kendall's W) and how far each voter sits from the ranking."""

    model_config = ConfigDict(frozen=True)

    concordance: float
    distances: dict[str, float]
    furthest: list[str]
    spread: dict[str, float]
    most_contested: list[str]


class Turnout(BaseModel):
    model_config = ConfigDict(frozen=True)

    voted: int
    eligible: int


@contract(
    SERVICE,
    "PrioritizationOpened",
    example={
        "contract_id": CONTRACT,
        "expectations": [E1, E2, E3],
        "voters": ["cfo", "cio", "coo"],
        "method": "schulze",
        "dots": None,
        "closes_at": "2026-12-01T17:00:00+00:00",
        "opened_by": "am-provider",
    },
)
class PrioritizationOpenedV1(EventContract):
    """A prioritization session opened on a contract's measurable expectations."""

    contract_id: UUID
    expectations: list[str]
    voters: list[str]
    method: Method
    dots: int | None
    closes_at: datetime | None
    opened_by: str


@contract(
    SERVICE,
    "VoteCast",
    example={"contract_id": CONTRACT, "voter": "cfo", "ranking": [E3, E1, E2], "dots": None},
)
class VoteCastV1(EventContract):
    """A decision maker's ballot; a later one from the same voter replaces it."""

    contract_id: UUID
    voter: str
    ranking: list[str] | None
    dots: dict[str, int] | None


@contract(SERVICE, "VoteWithdrawn", example={"contract_id": CONTRACT, "voter": "cfo"})
class VoteWithdrawnV1(EventContract):
    """A decision maker withdrew their ballot before the session closed."""

    contract_id: UUID
    voter: str


@contract(
    SERVICE,
    "PrioritizationClosed",
    example={"contract_id": CONTRACT, "closed_by": "am-provider", "voted": 3, "eligible": 3},
)
class PrioritizationClosedV1(EventContract):
    """The session stopped taking votes."""

    contract_id: UUID
    closed_by: str
    voted: int
    eligible: int


@contract(
    SERVICE,
    "CorporatePrioritiesPublished",
    example={
        "contract_id": CONTRACT,
        "ranking": [E1, E3, E2],
        "method": "schulze",
        "result": {
            "method": "schulze",
            "ranking": [E1, E3, E2],
            "scores": {E1: 2, E3: 1, E2: 0},
            "pairwise": {E1: {E2: 3, E3: 2}, E2: {E1: 0, E3: 1}, E3: {E1: 1, E2: 2}},
            "ties": [],
            "voters": 3,
            "strongest_paths": {E1: {E2: 3, E3: 2}, E2: {E1: 0, E3: 0}, E3: {E1: 0, E2: 2}},
            "disagreement": None,
        },
        "agreement": {
            "concordance": 0.78,
            "distances": {"cfo": 0.33, "cio": 0.0, "coo": 0.33},
            "furthest": [],
            "spread": {E1: 0.47, E2: 0.47, E3: 0.82},
            "most_contested": [E3, E1, E2],
        },
        "turnout": {"voted": 3, "eligible": 3},
        "advice": {E1: ["Critical for the client's regulators"], E2: [], E3: []},
    },
)
class CorporatePrioritiesPublishedV1(EventContract):
    """The ONE corporate ranking of the contract, with the count, the measures and the advice."""

    contract_id: UUID
    ranking: list[str]
    method: Method
    result: Count
    agreement: Agreement
    turnout: Turnout
    # The provider's advice per expectation, shown beside the ranking, never counted.
    advice: dict[str, list[str]]
