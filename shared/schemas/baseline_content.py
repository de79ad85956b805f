"""What a baseline freezes, as published in BaselineProposed, and its content hash.

The hash is SHA-256 over the content's canonical JSON: the content as this model writes it
(ids, dates, instants and decimals as text), keys sorted, no whitespace, UTF-8. A consumer
recomputes it from the `content` it received and compares it with `content_hash`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

Role = Literal[
    "client_decision_maker",
    "client_sponsor",
    "provider_account_manager",
    "provider_delivery_lead",
    "auditor",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FrozenContract(_Frozen):
    contract_id: UUID
    version: int
    title: str
    client_organisation: str
    provider_organisation: str
    starts_on: date


class FrozenParticipant(_Frozen):
    person_id: str
    name: str
    role: Role
    side: Literal["client", "provider"]


class FrozenTerms(_Frozen):
    metric: str
    comparison: Literal["at_least", "at_most", "equal", "within_range"] | None
    target: Decimal | None
    target_upper: Decimal | None
    unit: str
    deadline: date | None
    recurrence: Literal["daily", "weekly", "monthly", "quarterly", "yearly"] | None
    measurement_method: str
    measured_by: str


class FrozenExpectation(_Frozen):
    """A committed expectation at its version, with the terms of its committed revision."""

    expectation_id: UUID
    version: int
    revision: int
    text: str
    business_area: str
    terms: FrozenTerms


class FrozenObligation(_Frozen):
    """An obligation the client accepted."""

    obligation_id: UUID
    version: int
    what: str
    needed_from: str
    due_on: date
    depends_on: list[UUID]
    status: Literal["accepted", "fulfilled", "breached"]


class FrozenRisk(_Frozen):
    """A risk a client decision maker acknowledged."""

    risk_id: UUID
    version: int
    kind: Literal["problem", "preconditioning"]
    title: str
    description: str
    likelihood: int
    impact: int
    acknowledged_by: list[str]
    resolved: bool


class FrozenRanking(_Frozen):
    """The corporate ranking then published (the ranking service's), most important first."""

    ranking: list[str]
    method: str
    published_at: datetime
    event_id: str


class BaselineContent(_Frozen):
    """The agreed set of a contract at one moment."""

    contract: FrozenContract
    participants: list[FrozenParticipant]
    expectations: list[FrozenExpectation]
    obligations: list[FrozenObligation]
    risks: list[FrozenRisk]
    ranking: FrozenRanking | None


def canonical(content: Any) -> dict[str, Any]:
    """The content as published: validated, every value written as JSON text."""
    return BaselineContent.model_validate(content).model_dump(mode="json")


def canonical_bytes(content: Any) -> bytes:
    """The bytes the content hash covers."""
    text = json.dumps(canonical(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def content_hash(content: Any) -> str:
    """SHA-256 of the canonical JSON, in hex."""
    return hashlib.sha256(canonical_bytes(content)).hexdigest()
