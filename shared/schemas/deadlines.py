"""Published deadline warnings, raised by the service that owns each dated promise: elicitation
(obligations, recovery steps, expectations' deadlines, risks awaiting acknowledgement) on
accord.elicitation.v1, ranking (prioritizations' closing times) on accord.ranking.v1; and each
contract's deadline policy (elicitation).

`step` is a recovery step's number (its `item_id` is the gap's id) and null otherwise. Each
warning is raised once; a promise kept before a threshold raises nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from shared.schemas.registry import EventContract, contract

Kind = Literal[
    "obligation", "recovery_step", "expectation", "risk_acknowledgement", "prioritization"
]

_CONTRACT = "6f1c2b9e-4d3a-4f5e-9a7b-1c2d3e4f5a6b"
_OBLIGATION = "3b4c5d6e-7f8a-4b9c-8d1e-2f3a4b5c6d7e"
_SESSION = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"

_APPROACHING = {
    "contract_id": _CONTRACT,
    "kind": "obligation",
    "item_id": _OBLIGATION,
    "step": None,
    "threshold": 75,
    "starts_at": "2025-04-02T09:00:00+00:00",
    "due_at": "2025-04-16T00:00:00+00:00",
    "owner": "dana.lee@harbour.example",
}
_MISSED = {k: v for k, v in _APPROACHING.items() if k != "threshold"}


def _prioritization(example: Mapping[str, Any]) -> dict[str, Any]:
    return {**example, "kind": "prioritization", "item_id": _SESSION, "owner": "am-provider"}


@contract("elicitation", "DeadlineApproaching", example=_APPROACHING)
@contract("ranking", "DeadlineApproaching", example=_prioritization(_APPROACHING))
class DeadlineApproachingV1(EventContract):
    """A threshold (percent of the time from the promise to its deadline) passed while the
    promise was still open."""

    contract_id: UUID
    kind: Kind
    item_id: UUID
    step: int | None = Field(default=None, ge=1)
    threshold: int = Field(ge=1, le=99)
    starts_at: datetime
    due_at: datetime
    owner: str


@contract("elicitation", "DeadlineMissed", example=_MISSED)
@contract("ranking", "DeadlineMissed", example=_prioritization(_MISSED))
class DeadlineMissedV1(EventContract):
    """A dated promise's deadline passed while the promise was still open."""

    contract_id: UUID
    kind: Kind
    item_id: UUID
    step: int | None = Field(default=None, ge=1)
    starts_at: datetime
    due_at: datetime
    owner: str


@contract(
    "elicitation",
    "DeadlinePolicySet",
    example={
        "contract_id": _CONTRACT,
        "thresholds": [50, 75, 90],
        "acknowledgement_window": "P2D",
        "set_by": "amira.khan@northgate.example",
    },
)
class DeadlinePolicySetV1(EventContract):
    """A contract's deadline policy: the thresholds (percent of each promise's time) at which
    warnings are raised, and how long a disclosed risk may wait for acknowledgement (ISO 8601
    duration)."""

    contract_id: UUID
    thresholds: list[int]
    acknowledgement_window: str
    set_by: str
