"""Published suspect links (elicitation, topic accord.elicitation.v1): when an expectation's
terms or wording change, each item that rests on the earlier revision is flagged suspect with
the change that caused it, until someone who may decide reviews it.

An item is named by `item_id` and `kind`: a `commitment` is the provider's commitment to the
expectation (its `item_id` is the expectation's id); an `obligation`, a `risk`, a `baseline`
by their own ids; a `ranking` is the contract's published corporate ranking (its `item_id` is
the contract's id). Each value in `changes` is written as text (decimals in full, dates
YYYY-MM-DD), null where it was or became empty.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas.registry import EventContract, contract

SuspectKind = Literal["commitment", "obligation", "risk", "baseline", "ranking"]
ReviewOutcome = Literal["still_valid", "needs_change"]

_CONTRACT = "6f1c2b9e-4d3a-4f5e-9a7b-1c2d3e4f5a6b"
_EXPECTATION = "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"
_OBLIGATION = "3b4c5d6e-7f8a-4b9c-8d1e-2f3a4b5c6d7e"


class TermChange(BaseModel):
    """One value of the expectation that differs from the earlier revision to the new one."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # `text`, or a measurable term by its name in the terms: `terms.target`, `terms.unit`...
    field: str
    before: str | None
    after: str | None


@contract(
    "elicitation",
    "LinkSuspected",
    example={
        "contract_id": _CONTRACT,
        "item_id": _OBLIGATION,
        "kind": "obligation",
        "expectation_id": _EXPECTATION,
        "from_revision": 2,
        "revision": 3,
        "changes": [{"field": "terms.target", "before": "99.5", "after": "99.9"}],
        "refined_by": "sam.ortiz@northgate.example",
        "reviewers": ["provider_account_manager", "provider_delivery_lead"],
        "owner": "sam.ortiz@northgate.example",
    },
)
class LinkSuspectedV1(EventContract):
    """An item rests on an earlier revision of an expectation that has just been refined: it is
    suspect until reviewed. `reviewers` are the roles that may review it."""

    contract_id: UUID
    item_id: UUID
    kind: SuspectKind
    expectation_id: UUID
    # The revision the item rested on, and the one that replaced it.
    from_revision: int = Field(ge=1)
    revision: int = Field(ge=2)
    changes: list[TermChange]
    refined_by: str
    reviewers: list[str]
    # Who put the item on record (an obligation's or a baseline's proposer, a risk's discloser),
    # told of the flag; empty for a commitment and a ranking, which no one person owns, and in
    # flags raised before it was carried.
    owner: str = ""


@contract(
    "elicitation",
    "SuspectReviewed",
    example={
        "contract_id": _CONTRACT,
        "item_id": _OBLIGATION,
        "kind": "obligation",
        "outcome": "still_valid",
        "reason": "The new target needs the same access to the monitoring data",
        "reviewed_by": "amira.khan@northgate.example",
        "expectation_id": _EXPECTATION,
        "revision": 3,
    },
)
class SuspectReviewedV1(EventContract):
    """Someone who may decide reviewed a suspect item: this flag (the one `expectation_id`'s
    refinement to `revision` raised) is cleared; a review clears every flag open on the item,
    one event each. `needs_change` says the item must be revised, by its own commands."""

    contract_id: UUID
    item_id: UUID
    kind: SuspectKind
    outcome: ReviewOutcome
    reason: str
    reviewed_by: str
    expectation_id: UUID
    revision: int = Field(ge=2)
