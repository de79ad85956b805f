"""Typed inputs of the mutations, one per command; field names follow the services' bodies."""

from datetime import date, datetime

import strawberry
from strawberry.scalars import JSON


@strawberry.input
class OpenContractInput:
    client_organisation: str
    provider_organisation: str
    title: str
    starts_on: date
    name: str
    role: str
    side: str | None = None
    email: str = ""
    phone: str = ""


@strawberry.input
class JoinContractInput:
    contract_id: strawberry.ID
    person_id: str
    name: str
    role: str
    side: str | None = None
    email: str = ""
    phone: str = ""
    expected_version: int | None = None


@strawberry.input
class AskQuestionInput:
    contract_id: strawberry.ID
    asked_of: str
    business_area: str
    text: str
    expected_version: int | None = None


@strawberry.input
class AnswerQuestionInput:
    contract_id: strawberry.ID
    question_id: strawberry.ID
    answer: str
    expected_version: int | None = None


@strawberry.input
class ProposeExpectationInput:
    contract_id: strawberry.ID
    text: str
    business_area: str
    why_it_matters: str = ""
    from_answers: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class TermsInput:
    metric: str | None = None
    comparison: str | None = None
    target: str | None = None
    target_upper: str | None = None
    unit: str | None = None
    deadline: date | None = None
    recurrence: str | None = None
    measurement_method: str | None = None
    measured_by: str | None = None


@strawberry.input
class RefineExpectationInput:
    expectation_id: strawberry.ID
    text: str
    terms: TermsInput
    reason: str
    expected_version: int | None = None


@strawberry.input
class WithdrawExpectationInput:
    expectation_id: strawberry.ID
    reason: str
    expected_version: int | None = None


@strawberry.input
class MergeExpectationsInput:
    expectation_id: strawberry.ID
    merged_expectation_id: strawberry.ID
    reason: str
    expected_version: int | None = None
    merged_expected_version: int | None = None


@strawberry.input
class GiveProviderAdviceInput:
    expectation_id: strawberry.ID
    advice: str
    importance: str | None = None
    feasibility: str | None = None
    expected_version: int | None = None


@strawberry.input
class CommitToExpectationInput:
    expectation_id: strawberry.ID
    note: str = ""
    expected_version: int | None = None


@strawberry.input
class DeclineExpectationInput:
    expectation_id: strawberry.ID
    reason: str
    expected_version: int | None = None


@strawberry.input
class ProposeObligationInput:
    contract_id: strawberry.ID
    what: str
    needed_from: str
    due_on: date
    depends_on: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class AcceptObligationInput:
    obligation_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class DeclineObligationInput:
    obligation_id: strawberry.ID
    reason: str
    expected_version: int | None = None


@strawberry.input
class DiscloseRiskInput:
    contract_id: strawberry.ID
    kind: str
    title: str
    description: str
    likelihood: int
    impact: int
    affected_expectations: list[strawberry.ID] = strawberry.field(default_factory=list)
    prepare_for: str = ""


@strawberry.input
class AcknowledgeRiskInput:
    risk_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class RecordRemedialActionInput:
    risk_id: strawberry.ID
    action: str
    expected_version: int | None = None


@strawberry.input
class ResolveRiskInput:
    risk_id: strawberry.ID
    resolution: str
    expected_version: int | None = None


@strawberry.input
class RecordLessonLearnedInput:
    contract_id: strawberry.ID
    lesson: str
    risk_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    expectation_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class RecordMeasurementInput:
    expectation_id: strawberry.ID
    period_start: date
    period_end: date
    value: str
    source: str
    expected_version: int | None = None


@strawberry.input
class AcknowledgeGapInput:
    expectation_id: strawberry.ID
    measurement_id: strawberry.ID
    cause: str
    expected_version: int | None = None


@strawberry.input
class RecoveryStepInput:
    action: str
    owner: str
    due_on: date


@strawberry.input
class AgreeRecoveryPlanInput:
    expectation_id: strawberry.ID
    gap_id: strawberry.ID
    steps: list[RecoveryStepInput]
    agreed_with: str
    revised_target: str | None = None
    revised_target_upper: str | None = None
    expected_version: int | None = None


@strawberry.input
class CompleteRecoveryStepInput:
    expectation_id: strawberry.ID
    gap_id: strawberry.ID
    step: int
    note: str = ""
    expected_version: int | None = None


@strawberry.input
class OpenPrioritizationInput:
    contract_id: strawberry.ID
    method: str
    dots: int | None = None
    closes_at: datetime | None = strawberry.field(
        default=None,
        description="When voting stops: the session then closes by itself and publishes its"
        " ranking (unless nobody voted).",
    )


@strawberry.input
class CastVoteInput:
    prioritization_id: strawberry.ID
    ranking: list[strawberry.ID] | None = None
    dots: JSON | None = None
    expected_version: int | None = None


@strawberry.input
class ClosePrioritizationInput:
    prioritization_id: strawberry.ID
    expected_version: int | None = None
