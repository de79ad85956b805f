"""The GraphQL object types, each built from read-model rows."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

import orjson
import strawberry
from strawberry.scalars import JSON


def relay_id(kind: str, key: str) -> strawberry.ID:
    """A Relay global id: the type and its key, opaque to clients; `node(id:)` reads it."""
    return strawberry.ID(base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode())


def jsonb(value: Any) -> Any:
    """A jsonb column's value (asyncpg hands jsonb over as text)."""
    return orjson.loads(value) if isinstance(value, str) else value


@strawberry.type(description="What makes an expectation measurable.")
class Terms:
    metric: str | None
    comparison: str | None
    target: str | None
    target_upper: str | None
    unit: str | None
    deadline: str | None
    recurrence: str | None
    measurement_method: str | None
    measured_by: str | None

    @staticmethod
    def of(terms: dict[str, Any] | None) -> Terms | None:
        if not terms:
            return None
        names = Terms.__annotations__
        return Terms(**{k: None if terms.get(k) is None else str(terms[k]) for k in names})


@strawberry.type(description="The provider's expert view; shown beside priorities, never counted.")
class Advice:
    revision: int
    importance: str | None
    feasibility: str | None
    advice: str
    by: str
    at: str


@strawberry.type
class Expectation:
    id: strawberry.ID
    contract_id: str
    version: int
    revision: int
    text: str
    business_area: str
    why_it_matters: str
    measurable: bool
    missing_for_measurable: list[str] | None
    status: str
    proposers: list[str]
    merged_into: str | None
    merged_from: list[str]
    commitment: JSON | None
    decline: JSON | None
    corporate_priority: int | None
    # The whole state as stored: the nested parts are built only when a query asks for them.
    state: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="Its Relay global id, for `node(id:)`.")
    def global_id(self) -> strawberry.ID:
        return relay_id("Expectation", self.id)

    @strawberry.field
    def terms(self) -> Terms | None:
        return Terms.of(self.state.get("terms"))

    @strawberry.field
    def advice(self) -> list[Advice]:
        return [Advice(**a) for a in self.state.get("advice", [])]

    @staticmethod
    def of(state: dict[str, Any], version: int, priority: int | None) -> Expectation:
        return Expectation(
            id=strawberry.ID(state["expectation_id"]),
            contract_id=state["contract_id"],
            version=version,
            revision=state["revision"],
            text=state["text"],
            business_area=state["business_area"],
            why_it_matters=state["why_it_matters"],
            measurable=state["measurable"],
            missing_for_measurable=state.get("missing_for_measurable"),
            status=state["status"],
            proposers=state["proposers"],
            merged_into=state.get("merged_into"),
            merged_from=state.get("merged_from", []),
            commitment=state.get("commitment"),
            decline=state.get("decline"),
            corporate_priority=priority,
            state=state,
        )


@strawberry.type(description="One field that changed between two versions.")
class FieldChange:
    field: str
    old: JSON | None
    new: JSON | None


@strawberry.type(description="One version of an expectation: what changed, who, when, why.")
class ExpectationVersion:
    version: int
    revision: int
    event_type: str
    changed_at: datetime
    changed_by: str
    actor_role: str
    reason: str
    changes: list[FieldChange]
    state: JSON


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[FieldChange]:
    """Fields changed from one version's state to the next (terms field by field)."""
    before = before or {}
    changes: list[FieldChange] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if key == "terms" and isinstance(new, dict):
            for term in sorted(set(old or {}) | set(new)):
                was = (old or {}).get(term)
                if was != new.get(term):
                    changes.append(FieldChange(field=f"terms.{term}", old=was, new=new.get(term)))
        elif old != new:
            changes.append(FieldChange(field=key, old=old, new=new))
    return changes


@strawberry.type
class Participant:
    person_id: str
    name: str
    side: str
    role: str
    email: str
    active: bool


@strawberry.type
class Obligation:
    id: strawberry.ID
    contract_id: str
    what: str
    needed_from: str
    due_on: date
    depends_on: list[str]
    status: str
    decided_by: str | None
    decline_reason: str | None
    version: int


@strawberry.type
class RemedialAction:
    action: str
    taken_by: str
    at: datetime


@strawberry.type
class Risk:
    id: strawberry.ID
    contract_id: str
    kind: str
    title: str
    description: str
    likelihood: int
    impact: int
    exposure: int
    affected_expectations: list[str]
    prepare_for: str
    acknowledged: bool
    status: str
    resolution: str | None
    version: int
    remedial_actions: list[RemedialAction]


@strawberry.type(description="One expectation's delivery against its target, in priority order.")
class GapEntry:
    expectation_id: str
    text: str
    priority: int | None
    weight: int | None
    flagged: bool
    met: bool | None
    target: str | None
    value: str | None
    unit: str | None
    shortfall: str | None
    weighted_shortfall: float | None
    gap_acknowledged: bool
    recovery_steps_total: int
    recovery_steps_completed: int


@strawberry.type
class Ballot:
    voter: str
    ranking: list[str] | None
    dots: JSON | None


@strawberry.type
class VoterDistance:
    voter: str
    distance: float
    furthest: bool


@strawberry.type
class RankedExpectation:
    position: int
    expectation_id: str
    score: int
    advice: list[str]


@strawberry.type(description="The published corporate ranking and how far the group agreed.")
class Ranking:
    method: str
    entries: list[RankedExpectation]
    concordance: float
    distances: list[VoterDistance]
    most_contested: list[str]
    ties: JSON
    pairwise: JSON
    voted: int
    eligible: int


@strawberry.type
class Prioritization:
    id: strawberry.ID
    contract_id: str
    method: str
    status: str
    expectations: list[str]
    voters: list[str]
    closes_at: datetime | None
    version: int
    ballots: list[Ballot]
    ranking: Ranking | None

    @strawberry.field(description="Its Relay global id, for `node(id:)`.")
    def global_id(self) -> strawberry.ID:
        return relay_id("Prioritization", self.id)


def ranking_of(row: Any) -> Ranking:
    result, agreement, advice = jsonb(row["result"]), jsonb(row["agreement"]), jsonb(row["advice"])
    furthest = set(agreement["furthest"])
    return Ranking(
        method=row["method"],
        entries=[
            RankedExpectation(
                position=n, expectation_id=e, score=result["scores"][e], advice=advice.get(e, [])
            )
            for n, e in enumerate(row["ranking"], start=1)
        ],
        concordance=agreement["concordance"],
        distances=[
            VoterDistance(voter=v, distance=d, furthest=v in furthest)
            for v, d in sorted(agreement["distances"].items())
        ],
        most_contested=list(agreement["most_contested"]),
        ties=result["ties"],
        pairwise=result["pairwise"],
        voted=row["turnout_voted"],
        eligible=row["turnout_eligible"],
    )


@strawberry.type(description="One event of one service, as recorded, for auditors.")
class AuditEntry:
    event_id: str
    event_type: str
    occurred_at: datetime
    actor_id: str
    actor_role: str
    subject: str
    sequence: int
    correlation_id: str
    causation_id: str
    data: JSON
