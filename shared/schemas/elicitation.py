"""Published contracts of the elicitation service (topic accord.elicitation.v1).

Every event carries `contract_id`, the Kafka key. Decimal values (targets, measured values,
shortfalls) are published as JSON strings so that they stay exact; dates are YYYY-MM-DD.
The `*_by` fields name the person on the contract who acted (their subject).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas.baseline_content import BaselineContent, content_hash
from shared.schemas.registry import EventContract, contract

SERVICE = "elicitation"

Side = Literal["client", "provider"]
Role = Literal[
    "client_decision_maker",
    "client_sponsor",
    "provider_account_manager",
    "provider_delivery_lead",
    "auditor",
]
Comparison = Literal["at_least", "at_most", "equal", "within_range"]
Recurrence = Literal["daily", "weekly", "monthly", "quarterly", "yearly"]
Importance = Literal["low", "medium", "high", "critical"]
Feasibility = Literal["feasible", "stretch", "not_feasible"]
RiskKind = Literal["problem", "preconditioning"]
Score = Annotated[int, Field(ge=1, le=5)]

# Ids shared by the examples, so they read as one story.
_CONTRACT = "6f1c2b9e-4d3a-4f5e-9a7b-1c2d3e4f5a6b"
_EXPECTATION = "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"
_DUPLICATE = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"
_QUESTION = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
_OBLIGATION = "3b4c5d6e-7f8a-4b9c-8d1e-2f3a4b5c6d7e"
_RISK = "4c5d6e7f-8a9b-4cad-9e2f-3a4b5c6d7e8f"
_LESSON = "5d6e7f8a-9bac-4dbe-8f3a-4b5c6d7e8f9a"
_MEASUREMENT = "7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b"
_GAP = "8f9a0b1c-2d3e-4f4a-8b5c-6d7e8f9a0b1c"
_ACTION = "9a0b1c2d-3e4f-4a5b-9c6d-7e8f9a0b1c2d"


class _Data(BaseModel):
    """A nested value inside an event's data."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class MeasurableTerms(_Data):
    """Measurable terms of one revision; any may be missing until the expectation is measurable."""

    metric: str
    comparison: Comparison | None
    # The target, or the lower bound of a range.
    target: Decimal | None
    # The upper bound, for within_range only.
    target_upper: Decimal | None
    unit: str
    deadline: date | None
    recurrence: Recurrence | None
    measurement_method: str
    measured_by: str


class RecoveryStep(_Data):
    """One step of a recovery plan: what, who owns it, by when."""

    step: int = Field(ge=1)
    action: str
    owner: str
    due_on: date


_TERMS_EXAMPLE = {
    "metric": "Priority-1 incidents resolved within 4 hours",
    "comparison": "at_least",
    "target": "95",
    "target_upper": None,
    "unit": "percent of incidents",
    "deadline": None,
    "recurrence": "monthly",
    "measurement_method": "Service desk ticket export, resolved time minus logged time",
    "measured_by": "Client service management office",
}


# Contract


@contract(
    SERVICE,
    "ContractOpened",
    example={
        "contract_id": _CONTRACT,
        "client_organisation": "Harbour Logistics plc",
        "provider_organisation": "Northgate IT Services",
        "title": "Managed IT service desk and infrastructure, 2025-2028",
        "starts_on": "2025-04-01",
        "opened_by": "amira.khan@northgate.example",
    },
)
class ContractOpenedV1(EventContract):
    """A contract between a client organisation and its provider was opened."""

    contract_id: UUID
    client_organisation: str
    provider_organisation: str
    title: str
    starts_on: date
    opened_by: str


@contract(
    SERVICE,
    "ParticipantJoined",
    example={
        "contract_id": _CONTRACT,
        "person_id": "li.wei@harbour.example",
        "name": "Li Wei",
        "side": "client",
        "role": "client_decision_maker",
        "email": "li.wei@harbour.example",
        "phone": "+44 20 7946 0321",
        "added_by": "amira.khan@northgate.example",
    },
)
class ParticipantJoinedV1(EventContract):
    """A person joined the contract, on a side and in a role, with contact details."""

    contract_id: UUID
    person_id: str
    name: str
    side: Side
    role: Role
    email: str
    phone: str
    added_by: str


@contract(
    SERVICE,
    "ParticipantLeft",
    example={
        "contract_id": _CONTRACT,
        "person_id": "li.wei@harbour.example",
        "reason": "Moved to the group finance team",
        "removed_by": "amira.khan@northgate.example",
    },
)
class ParticipantLeftV1(EventContract):
    """A person left the contract (by themselves, or removed by someone who manages it)."""

    contract_id: UUID
    person_id: str
    reason: str
    removed_by: str


@contract(
    SERVICE,
    "AuditorNominated",
    example={
        "contract_id": _CONTRACT,
        "person_id": "olive.berg@harbour.example",
        "name": "Olive Berg",
        "side": "client",
        "email": "olive.berg@harbour.example",
        "phone": "",
        "nominated_by": "amira.khan@northgate.example",
        "confirmers": ["li.wei@harbour.example"],
    },
)
class AuditorNominatedV1(EventContract):
    """One side's appointer named an auditor, who joins when the other side's confirms."""

    contract_id: UUID
    person_id: str
    name: str
    side: Side
    email: str
    phone: str
    nominated_by: str
    # Who could confirm when it was made: the other side's appointers (its sponsors, else its
    # first person). Empty in nominations made before it was carried.
    confirmers: list[str] = Field(default_factory=list)


# Discovery


@contract(
    SERVICE,
    "QuestionAsked",
    example={
        "contract_id": _CONTRACT,
        "question_id": _QUESTION,
        "asked_of": "li.wei@harbour.example",
        "business_area": "Warehouse operations",
        "text": "What happens on the warehouse floor when a scanner cannot reach the WMS?",
        "asked_by": "amira.khan@northgate.example",
    },
)
class QuestionAskedV1(EventContract):
    """The provider asked a client decision maker a probing question in a business area.
    Each question is its own aggregate: `ce_subject` is the question id, `ce_sequence` 1 (one
    asked before questions had their own aggregates names its contract, in the contract's
    sequence); the key is the contract id either way."""

    contract_id: UUID
    question_id: UUID
    asked_of: str
    business_area: str
    text: str
    asked_by: str


@contract(
    SERVICE,
    "QuestionAnswered",
    example={
        "contract_id": _CONTRACT,
        "question_id": _QUESTION,
        "answer": "Pickers stop; after twenty minutes the evening trucks leave half empty.",
        "answered_by": "li.wei@harbour.example",
        "recorded_by": "amira.khan@northgate.example",
    },
)
class QuestionAnsweredV1(EventContract):
    """A discovery question was answered (recorded by the person asked or the provider's team).
    Its `ce_subject` is its QuestionAsked's: the question (`ce_sequence` 2), or, for a question
    asked before questions had their own aggregates, its contract."""

    contract_id: UUID
    question_id: UUID
    answer: str
    answered_by: str
    recorded_by: str


# Expectations


@contract(
    SERVICE,
    "ExpectationProposed",
    example={
        "contract_id": _CONTRACT,
        "expectation_id": _EXPECTATION,
        "text": "Warehouse scanners must be fixed fast when they stop working",
        "business_area": "Warehouse operations",
        "why_it_matters": "Every hour without scanning delays the evening dispatch",
        "from_answers": [_QUESTION],
        "proposed_by": "li.wei@harbour.example",
    },
)
class ExpectationProposedV1(EventContract):
    """A client decision maker proposed an expectation, citing the answers it came from."""

    contract_id: UUID
    expectation_id: UUID
    text: str
    business_area: str
    why_it_matters: str
    from_answers: list[UUID]
    proposed_by: str


@contract(
    SERVICE,
    "ExpectationRefined",
    example={
        "contract_id": _CONTRACT,
        "expectation_id": _EXPECTATION,
        "revision": 2,
        "text": "Priority-1 scanner incidents are resolved within 4 hours",
        "terms": _TERMS_EXAMPLE,
        "reason": "Agreed a metric and target in the expectations meeting",
        "refined_by": "amira.khan@northgate.example",
        "measurable": True,
        "missing_for_measurable": [],
    },
)
class ExpectationRefinedV1(EventContract):
    """A new revision of an expectation: its wording, measurable terms and why it changed."""

    contract_id: UUID
    expectation_id: UUID
    revision: int = Field(ge=2)
    text: str
    terms: MeasurableTerms
    reason: str
    refined_by: str
    # Computed from the terms: only measurable expectations go to prioritization.
    measurable: bool
    missing_for_measurable: list[str]
    # The expectation's status after the refinement (a decision on an earlier revision is
    # reopened); null on events stored before it was carried.
    status: Literal["proposed"] | None = None


@contract(
    SERVICE,
    "ExpectationWithdrawn",
    example={
        "contract_id": _CONTRACT,
        "expectation_id": _DUPLICATE,
        "reason": "Covered by the new group-wide network contract",
        "withdrawn_by": "li.wei@harbour.example",
    },
)
class ExpectationWithdrawnV1(EventContract):
    """An expectation was withdrawn, with the reason; it can no longer change."""

    contract_id: UUID
    expectation_id: UUID
    reason: str
    withdrawn_by: str


@contract(
    SERVICE,
    "ExpectationsMerged",
    example={
        "contract_id": _CONTRACT,
        "kept_expectation_id": _EXPECTATION,
        "merged_expectation_id": _DUPLICATE,
        "proposers": ["li.wei@harbour.example", "tom.okafor@harbour.example"],
        "reason": "Warehouse and transport both asked for fast scanner fixes",
        "merged_by": "amira.khan@northgate.example",
    },
    stored_on=("kept_expectation_id", "merged_expectation_id"),
)
class ExpectationsMergedV1(EventContract):
    """Two duplicate expectations became one. Stored on both expectations' streams, published
    once: from the kept expectation's (ce_subject), with the merged one's stored copy in the
    `accordcopies` extension attribute."""

    contract_id: UUID
    kept_expectation_id: UUID
    merged_expectation_id: UUID
    # Everyone who proposed either one: both stay on record.
    proposers: list[str]
    reason: str
    merged_by: str


@contract(
    SERVICE,
    "ProviderAdviceGiven",
    example={
        "contract_id": _CONTRACT,
        "expectation_id": _EXPECTATION,
        "revision": 2,
        "importance": "high",
        "feasibility": "stretch",
        "advice": "Feasible with spare scanners on site; without them 8 hours is realistic",
        "advised_by": "sam.osei@northgate.example",
    },
)
class ProviderAdviceGivenV1(EventContract):
    """The provider's expert view of an expectation's importance or feasibility (never a vote)."""

    contract_id: UUID
    expectation_id: UUID
    revision: int = Field(ge=1)
    importance: Importance | None
    feasibility: Feasibility | None
    advice: str
    advised_by: str


@contract(
    SERVICE,
    "ExpectationCommitted",
    example={
        "contract_id": _CONTRACT,
        "expectation_id": _EXPECTATION,
        "revision": 2,
        "note": "Two spare scanners will be kept at each warehouse",
        "committed_by": "amira.khan@northgate.example",
    },
)
class ExpectationCommittedV1(EventContract):
    """The provider committed to meet a revision of an expectation."""

    contract_id: UUID
    expectation_id: UUID
    revision: int = Field(ge=1)
    note: str
    committed_by: str


@contract(
    SERVICE,
    "ExpectationDeclined",
    example={
        "contract_id": _CONTRACT,
        "expectation_id": _EXPECTATION,
        "revision": 1,
        "reason": "Zero downtime cannot be met with a single data centre",
        "declined_by": "amira.khan@northgate.example",
    },
)
class ExpectationDeclinedV1(EventContract):
    """The provider declined a revision of an expectation, with its reason."""

    contract_id: UUID
    expectation_id: UUID
    revision: int = Field(ge=1)
    reason: str
    declined_by: str


# Obligations


@contract(
    SERVICE,
    "ObligationProposed",
    example={
        "contract_id": _CONTRACT,
        "obligation_id": _OBLIGATION,
        "what": "Remote access to the warehouse management system for the service desk",
        "needed_from": "li.wei@harbour.example",
        "due_on": "2025-03-15",
        "depends_on": [_EXPECTATION],
        "proposed_by": "amira.khan@northgate.example",
    },
)
class ObligationProposedV1(EventContract):
    """The provider stated what it needs from a client person, by when, and for which
    expectations."""

    contract_id: UUID
    obligation_id: UUID
    what: str
    needed_from: str
    due_on: date
    depends_on: list[UUID]
    proposed_by: str


@contract(
    SERVICE,
    "ObligationAccepted",
    example={
        "contract_id": _CONTRACT,
        "obligation_id": _OBLIGATION,
        "accepted_by": "li.wei@harbour.example",
    },
)
class ObligationAcceptedV1(EventContract):
    """A client decision maker accepted an obligation."""

    contract_id: UUID
    obligation_id: UUID
    accepted_by: str


@contract(
    SERVICE,
    "ObligationDeclined",
    example={
        "contract_id": _CONTRACT,
        "obligation_id": _OBLIGATION,
        "reason": "Security policy forbids standing remote access; we will escort on site",
        "declined_by": "li.wei@harbour.example",
    },
)
class ObligationDeclinedV1(EventContract):
    """A client decision maker declined an obligation, with the reason."""

    contract_id: UUID
    obligation_id: UUID
    reason: str
    declined_by: str


@contract(
    SERVICE,
    "ObligationFulfilled",
    example={
        "contract_id": _CONTRACT,
        "obligation_id": _OBLIGATION,
        "note": "VPN accounts issued to the service desk team",
        "confirmed_by": "sam.osei@northgate.example",
    },
)
class ObligationFulfilledV1(EventContract):
    """The provider confirmed the client met an obligation."""

    contract_id: UUID
    obligation_id: UUID
    note: str
    confirmed_by: str


@contract(
    SERVICE,
    "ObligationBreached",
    example={
        "contract_id": _CONTRACT,
        "obligation_id": _OBLIGATION,
        "what_happened": "Access was not granted by the agreed date",
        "impact": "Scanner incidents need an engineer on site until access exists",
        "declared_by": "sam.osei@northgate.example",
    },
)
class ObligationBreachedV1(EventContract):
    """The provider recorded that the client did not meet an accepted obligation."""

    contract_id: UUID
    obligation_id: UUID
    what_happened: str
    impact: str
    declared_by: str


# Risks and lessons


@contract(
    SERVICE,
    "RiskDisclosed",
    example={
        "contract_id": _CONTRACT,
        "risk_id": _RISK,
        "kind": "preconditioning",
        "title": "Scanner firmware end of support",
        "description": "The scanner vendor ends firmware support in June; faults may rise",
        "likelihood": 3,
        "impact": 4,
        "affected_expectations": [_EXPECTATION],
        "prepare_for": "Budget for replacing 40 scanners in the next financial year",
        "disclosed_by": "sam.osei@northgate.example",
    },
)
class RiskDisclosedV1(EventContract):
    """The provider disclosed a problem, or preconditioned the client about one that may come."""

    contract_id: UUID
    risk_id: UUID
    kind: RiskKind
    title: str
    description: str
    likelihood: Score
    impact: Score
    affected_expectations: list[UUID]
    prepare_for: str
    disclosed_by: str


@contract(
    SERVICE,
    "RiskAcknowledged",
    example={
        "contract_id": _CONTRACT,
        "risk_id": _RISK,
        "acknowledged_by": "li.wei@harbour.example",
    },
)
class RiskAcknowledgedV1(EventContract):
    """A client decision maker confirmed they were told of a risk; only then does it count."""

    contract_id: UUID
    risk_id: UUID
    acknowledged_by: str


@contract(
    SERVICE,
    "RemedialActionTaken",
    example={
        "contract_id": _CONTRACT,
        "risk_id": _RISK,
        "action": "Rolled back the scanner firmware on all warehouse devices",
        "taken_by": "sam.osei@northgate.example",
    },
)
class RemedialActionTakenV1(EventContract):
    """The provider took a remedial action on a risk."""

    contract_id: UUID
    risk_id: UUID
    action: str
    taken_by: str


@contract(
    SERVICE,
    "RiskResolved",
    example={
        "contract_id": _CONTRACT,
        "risk_id": _RISK,
        "resolution": "Scanners replaced with a supported model",
        "resolved_by": "amira.khan@northgate.example",
    },
)
class RiskResolvedV1(EventContract):
    """A risk was resolved."""

    contract_id: UUID
    risk_id: UUID
    resolution: str
    resolved_by: str


@contract(
    SERVICE,
    "LessonLearned",
    example={
        "contract_id": _CONTRACT,
        "lesson_id": _LESSON,
        "lesson": "Firmware updates need a pilot warehouse before a full roll-out",
        "risk_ids": [_RISK],
        "expectation_ids": [_EXPECTATION],
        "learned_by": "sam.osei@northgate.example",
    },
)
class LessonLearnedV1(EventContract):
    """A lesson learned, linked to the risks or expectations it came from."""

    contract_id: UUID
    lesson_id: UUID
    lesson: str
    risk_ids: list[UUID]
    expectation_ids: list[UUID]
    learned_by: str


@contract(
    SERVICE,
    "PreventiveActionPlanned",
    example={
        "contract_id": _CONTRACT,
        "lesson_id": _LESSON,
        "action_id": _ACTION,
        "action": "Add a pilot warehouse stage to the change procedure",
        "owner": "sam.osei@northgate.example",
        "due_on": "2025-09-30",
        "planned_by": "amira.khan@northgate.example",
    },
)
class PreventiveActionPlannedV1(EventContract):
    """A preventive action was planned from a lesson, with an owner and a date."""

    contract_id: UUID
    lesson_id: UUID
    action_id: UUID
    action: str
    owner: str
    due_on: date
    planned_by: str


# Delivery and gaps


@contract(
    SERVICE,
    "MeasurementRecorded",
    example={
        "contract_id": _CONTRACT,
        "expectation_id": _EXPECTATION,
        "measurement_id": _MEASUREMENT,
        "revision": 2,
        "period_start": "2025-05-01",
        "period_end": "2025-05-31",
        "value": "91.5",
        "unit": "percent of incidents",
        "source": "Service desk ticket export, May 2025",
        "met": False,
        "shortfall": "3.5",
        "recorded_by": "sam.osei@northgate.example",
        "relative_shortfall": "0.036842",
        "comparison": "at_least",
        "target": "95",
        "target_upper": None,
    },
)
class MeasurementRecordedV1(EventContract):
    """A value measured for an expectation in a period, judged against the terms of its
    revision: met, shortfall and relative shortfall as the elicitation service computed them."""

    contract_id: UUID
    expectation_id: UUID
    measurement_id: UUID
    # The revision whose terms the value was judged against.
    revision: int = Field(ge=1)
    period_start: date
    period_end: date
    value: Decimal
    unit: str
    source: str
    met: bool
    # How far from the target, in the unit, from the bound missed (the nearer bound of a
    # range); zero when met.
    shortfall: Decimal
    recorded_by: str
    # Null in measurements recorded before the event carried them (a consumer that needs them
    # then reads the terms of `revision` from ExpectationRefined or RecoveryPlanAgreed).
    # The shortfall divided by the size of the bound missed, to a millionth (a bound of zero
    # counts as one unit): comparable across units.
    relative_shortfall: Decimal | None = None
    # The terms the value was judged against (those of `revision`).
    comparison: Comparison | None = None
    # The target, or the lower bound of a range.
    target: Decimal | None = None
    # The upper bound, for within_range only.
    target_upper: Decimal | None = None


@contract(
    SERVICE,
    "GapAcknowledged",
    example={
        "contract_id": _CONTRACT,
        "expectation_id": _EXPECTATION,
        "gap_id": _GAP,
        "measurement_id": _MEASUREMENT,
        "shortfall": "3.5",
        "unit": "percent of incidents",
        "cause": "Two engineers left; night cover was thin in May",
        "acknowledged_by": "amira.khan@northgate.example",
    },
)
class GapAcknowledgedV1(EventContract):
    """The provider acknowledged a shortfall a measurement showed, and its cause as understood."""

    contract_id: UUID
    expectation_id: UUID
    gap_id: UUID
    measurement_id: UUID
    shortfall: Decimal
    unit: str
    cause: str
    acknowledged_by: str


@contract(
    SERVICE,
    "RecoveryPlanAgreed",
    example={
        "contract_id": _CONTRACT,
        "expectation_id": _EXPECTATION,
        "gap_id": _GAP,
        "steps": [
            {
                "step": 1,
                "action": "Hire two night-shift engineers",
                "owner": "sam.osei@northgate.example",
                "due_on": "2025-07-15",
            },
            {
                "step": 2,
                "action": "Approve site access badges for the new engineers",
                "owner": "li.wei@harbour.example",
                "due_on": "2025-07-22",
            },
        ],
        "revised_target": "92",
        "revised_target_upper": None,
        "revision": 3,
        "agreed_with": "li.wei@harbour.example",
        "agreed_by": "amira.khan@northgate.example",
    },
)
class RecoveryPlanAgreedV1(EventContract):
    """A recovery plan for a gap: steps with owners and dates, and any revised target agreed."""

    contract_id: UUID
    expectation_id: UUID
    gap_id: UUID
    steps: list[RecoveryStep] = Field(min_length=1)
    revised_target: Decimal | None
    revised_target_upper: Decimal | None
    # The expectation's revision after the plan: one more when the target was revised.
    revision: int = Field(ge=1)
    # The client decision maker who agreed the plan.
    agreed_with: str
    agreed_by: str
    # The revision the provider's decision (commitment or decline) stands on after the plan: a
    # commitment carries over to a revised target; null when none was taken, or on events
    # stored before it was carried.
    decided_revision: int | None = None


@contract(
    SERVICE,
    "RecoveryStepCompleted",
    example={
        "contract_id": _CONTRACT,
        "expectation_id": _EXPECTATION,
        "gap_id": _GAP,
        "step": 1,
        "note": "Both engineers started on 14 July",
        "completed_by": "sam.osei@northgate.example",
    },
)
class RecoveryStepCompletedV1(EventContract):
    """A step of a recovery plan was completed."""

    contract_id: UUID
    expectation_id: UUID
    gap_id: UUID
    step: int = Field(ge=1)
    note: str
    completed_by: str


# Baselines: the agreed set frozen, signed, revoked (never edited)

_BASELINE = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
_BASELINE_CONTENT = {
    "contract": {
        "contract_id": _CONTRACT,
        "version": 4,
        "title": "Managed IT service desk and infrastructure, 2025-2028",
        "client_organisation": "Harbour Logistics plc",
        "provider_organisation": "Northgate IT Services",
        "starts_on": "2025-04-01",
    },
    "participants": [
        {
            "person_id": "amira.khan@northgate.example",
            "name": "Amira Khan",
            "role": "provider_account_manager",
            "side": "provider",
        },
        {
            "person_id": "li.wei@harbour.example",
            "name": "Li Wei",
            "role": "client_sponsor",
            "side": "client",
        },
    ],
    "expectations": [
        {
            "expectation_id": _EXPECTATION,
            "version": 3,
            "revision": 2,
            "text": "Priority-one incidents are resolved within four hours",
            "business_area": "Operations",
            "terms": _TERMS_EXAMPLE,
        }
    ],
    "obligations": [],
    "risks": [],
    "ranking": {
        "ranking": [_EXPECTATION],
        "method": "schulze",
        "published_at": "2025-05-02T09:30:00Z",
        "event_id": "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e",
    },
}
_BASELINE_HASH = content_hash(_BASELINE_CONTENT)
BaselineMeaning = Literal["approved", "reviewed", "responsible"]


@contract(
    SERVICE,
    "BaselineProposed",
    example={
        "contract_id": _CONTRACT,
        "baseline_id": _BASELINE,
        "title": "Agreed scope for the first quarterly review",
        "content": _BASELINE_CONTENT,
        "content_hash": _BASELINE_HASH,
        "required_roles": ["client_sponsor", "provider_account_manager"],
        "proposed_by": "amira.khan@northgate.example",
    },
)
class BaselineProposedV1(EventContract):
    """The agreed set frozen at its current versions: read-only from now on. `content_hash` is
    SHA-256 over the content's canonical JSON (keys sorted, no whitespace, UTF-8)."""

    contract_id: UUID
    baseline_id: UUID
    title: str
    content: BaselineContent
    content_hash: str
    # Roles of which someone must sign before the baseline is complete.
    required_roles: list[Role]
    proposed_by: str


@contract(
    SERVICE,
    "BaselineSigned",
    example={
        "contract_id": _CONTRACT,
        "baseline_id": _BASELINE,
        "signer": "li.wei@harbour.example",
        "printed_name": "Li Wei",
        "role": "client_sponsor",
        "meaning": "approved",
        "signed_at": "2025-05-03T10:15:00Z",
        "authenticated_at": "2025-05-03T10:12:41Z",
        "content_hash": _BASELINE_HASH,
        "complete": False,
    },
)
class BaselineSignedV1(EventContract):
    """A signature (21 CFR Part 11 11.50, 11.70): who, their printed name, when, what it means,
    and the content hash it is bound to; `complete` once every required role has signed."""

    contract_id: UUID
    baseline_id: UUID
    signer: str
    printed_name: str
    role: Role
    meaning: BaselineMeaning
    signed_at: datetime
    # When the signer last authenticated (their token's issue time).
    authenticated_at: datetime
    content_hash: str
    complete: bool


@contract(
    SERVICE,
    "BaselineRevoked",
    example={
        "contract_id": _CONTRACT,
        "baseline_id": _BASELINE,
        "reason": "Superseded: the response time target was renegotiated",
        "revoked_by": "amira.khan@northgate.example",
    },
)
class BaselineRevokedV1(EventContract):
    """A baseline no longer stands; it stays on record with its signatures."""

    contract_id: UUID
    baseline_id: UUID
    reason: str
    revoked_by: str
