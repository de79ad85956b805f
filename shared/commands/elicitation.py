"""The elicitation service's commands: contracts and their people, questions, expectations,
obligations, risks and lessons, and delivery against the expectations.

The closed sets of the domain (roles, sides, comparisons...) live here, beside the bodies
that carry them, so that GraphQL shows them as enums; the domain imports them from here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import Field

from shared.commands.declaration import Body, Command
from shared.values import Amount, Day, Integer, LongText, Text

SERVICE = "elicitation"


class Side(StrEnum):
    """The side of the contract a person is on."""

    CLIENT = "client"
    PROVIDER = "provider"


class Role(StrEnum):
    """What a person does on a contract (and so what they may do to its record)."""

    CLIENT_DECISION_MAKER = "client_decision_maker"
    CLIENT_SPONSOR = "client_sponsor"
    PROVIDER_ACCOUNT_MANAGER = "provider_account_manager"
    PROVIDER_DELIVERY_LEAD = "provider_delivery_lead"
    AUDITOR = "auditor"


class Importance(StrEnum):
    """How much an expectation matters, in the provider's view."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Feasibility(StrEnum):
    """Whether the provider can meet an expectation, in its view."""

    FEASIBLE = "feasible"
    STRETCH = "stretch"
    NOT_FEASIBLE = "not_feasible"


class RiskKind(StrEnum):
    """A problem that exists now, or preparing the client for one that might come."""

    PROBLEM = "problem"
    PRECONDITIONING = "preconditioning"


class Comparison(StrEnum):
    """How a measured value is compared with the target."""

    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    EQUAL = "equal"
    WITHIN_RANGE = "within_range"


class Recurrence(StrEnum):
    """How often the target is measured, for an expectation met again each period."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


# The version of the object a command acts on that the command is based on.
ExpectedVersion = Annotated[
    Integer | None,
    Field(description="The version the command is based on; another one is refused as CONFLICT."),
]


# Contract and participants


class OpenContract(Body):
    client_organisation: Text
    provider_organisation: Text
    title: Text
    starts_on: Day
    name: Text = Field(description="The opener's name; the opener joins the contract at once.")
    role: Role = Field(description="The opener's role (one who may add participants).")
    side: Side | None = Field(
        default=None, description="The opener's side; the role's if left out."
    )
    email: Text = ""
    phone: Text = ""


class JoinContract(Body):
    person_id: Text
    name: Text
    role: Role
    side: Side | None = Field(
        default=None, description="Needed for an auditor only (either side); else the role's."
    )
    email: Text = ""
    phone: Text = ""
    expected_version: ExpectedVersion = None


class LeaveContract(Body):
    person_id: Text = Field(description="Who leaves: the caller, or someone their side appointed.")
    reason: LongText = ""
    expected_version: ExpectedVersion = None


class AskQuestion(Body):
    asked_of: Text = Field(description="The client decision maker asked.")
    business_area: Text
    text: LongText
    expected_version: ExpectedVersion = None


class AnswerQuestion(Body):
    question_id: UUID
    answer: LongText
    expected_version: ExpectedVersion = None


# Expectations


class ProposeExpectation(Body):
    text: LongText
    business_area: Text
    why_it_matters: LongText = ""
    from_answers: list[UUID] = Field(
        default_factory=list, description="The questions whose answers the expectation came from."
    )


class Terms(Body):
    """An expectation's measurable terms as they now stand; a term left out is not set yet."""

    metric: Text | None = None
    comparison: Comparison | None = None
    target: Amount | None = Field(default=None, description="The target, or a range's lower bound.")
    target_upper: Amount | None = Field(
        default=None, description="A range's upper bound (comparison WITHIN_RANGE only)."
    )
    unit: Text | None = None
    deadline: Day | None = Field(default=None, description="Met once, by this day.")
    recurrence: Recurrence | None = Field(default=None, description="Or met again each period.")
    measurement_method: Text | None = None
    measured_by: Text | None = None


class RefineExpectation(Body):
    text: LongText
    terms: Terms
    reason: LongText
    expected_version: ExpectedVersion = None


class WithdrawExpectation(Body):
    reason: LongText
    expected_version: ExpectedVersion = None


class MergeExpectations(Body):
    merged_expectation_id: UUID = Field(description="The duplicate merged into this one.")
    reason: LongText
    merged_expected_version: Integer | None = Field(
        default=None, description="The duplicate's version the command is based on."
    )
    expected_version: ExpectedVersion = None


class GiveProviderAdvice(Body):
    advice: LongText
    importance: Importance | None = None
    feasibility: Feasibility | None = None
    expected_version: ExpectedVersion = None


class CommitToExpectation(Body):
    note: LongText = ""
    expected_version: ExpectedVersion = None


class DeclineExpectation(Body):
    reason: LongText
    expected_version: ExpectedVersion = None


# Obligations


class ProposeObligation(Body):
    what: LongText
    needed_from: Text = Field(description="The client person it is needed from.")
    due_on: Day
    depends_on: list[UUID] = Field(
        default_factory=list, description="The expectations that need it."
    )


class AcceptObligation(Body):
    expected_version: ExpectedVersion = None


class DeclineObligation(Body):
    reason: LongText
    expected_version: ExpectedVersion = None


class FulfilObligation(Body):
    note: LongText = ""
    expected_version: ExpectedVersion = None


class BreachObligation(Body):
    what_happened: LongText
    impact: LongText = ""
    expected_version: ExpectedVersion = None


# Risks and lessons


class DiscloseRisk(Body):
    kind: RiskKind
    title: Text
    description: LongText
    likelihood: Integer = Field(description="From 1 (rare) to 5 (almost certain).")
    impact: Integer = Field(description="From 1 (slight) to 5 (severe).")
    affected_expectations: list[UUID] = Field(default_factory=list)
    prepare_for: LongText = Field(default="", description="What the client should prepare for.")


class AcknowledgeRisk(Body):
    expected_version: ExpectedVersion = None


class RecordRemedialAction(Body):
    action: LongText
    expected_version: ExpectedVersion = None


class ResolveRisk(Body):
    resolution: LongText
    expected_version: ExpectedVersion = None


class RecordLessonLearned(Body):
    lesson: LongText
    risk_ids: list[UUID] = Field(default_factory=list)
    expectation_ids: list[UUID] = Field(default_factory=list)


class PlanPreventiveAction(Body):
    action: LongText
    owner: Text = Field(description="The participant who carries it out.")
    due_on: Day
    expected_version: ExpectedVersion = None


# Delivery and gaps


class RecordMeasurement(Body):
    period_start: Day
    period_end: Day
    value: Amount
    source: Text
    expected_version: ExpectedVersion = None


class AcknowledgeGap(Body):
    measurement_id: UUID = Field(description="The measurement that fell short.")
    cause: LongText
    expected_version: ExpectedVersion = None


class RecoveryStep(Body):
    """One step of a recovery plan: what, who owns it, by when."""

    action: LongText
    owner: Text
    due_on: Day


class AgreeRecoveryPlan(Body):
    steps: list[RecoveryStep]
    agreed_with: Text = Field(description="The client decision maker the plan was agreed with.")
    revised_target: Amount | None = None
    revised_target_upper: Amount | None = None
    expected_version: ExpectedVersion = None


class CompleteRecoveryStep(Body):
    step: Integer = Field(description="The step's number in its plan, from 1.")
    note: LongText = ""
    expected_version: ExpectedVersion = None


OPEN_CONTRACT = Command(
    "open_contract", SERVICE, "/contracts", OpenContract,
    "Open a contract; the opener joins it with their role.",
    events=("ContractOpened", "ParticipantJoined"), creates=True,
)  # fmt: skip
JOIN_CONTRACT = Command(
    "join_contract", SERVICE, "/contracts/{contract_id}/participants", JoinContract,
    "Add a participant to the contract (an auditor joins once both sides have named them).",
    events=("ParticipantJoined", "AuditorNominated"),
)  # fmt: skip
LEAVE_CONTRACT = Command(
    "leave_contract", SERVICE, "/contracts/{contract_id}/participants/leave", LeaveContract,
    "A participant leaves the contract, or is removed by their side's appointer; a side's last"
    " appointer stays until a successor joins.",
    events=("ParticipantLeft",),
)  # fmt: skip
ASK_QUESTION = Command(
    "ask_question", SERVICE, "/contracts/{contract_id}/questions", AskQuestion,
    "Ask a decision maker a probing question.",
    events=("QuestionAsked",),
)  # fmt: skip
ANSWER_QUESTION = Command(
    "answer_question", SERVICE, "/contracts/{contract_id}/answers", AnswerQuestion,
    "Record the answer to a question.",
    events=("QuestionAnswered",),
)  # fmt: skip
PROPOSE_EXPECTATION = Command(
    "propose_expectation", SERVICE, "/contracts/{contract_id}/expectations",
    ProposeExpectation, "A client decision maker proposes an expectation.",
    events=("ExpectationProposed",), creates=True,
)  # fmt: skip
REFINE_EXPECTATION = Command(
    "refine_expectation", SERVICE, "/expectations/{expectation_id}/refine", RefineExpectation,
    "Reword an expectation and state its measurable terms.",
    events=("ExpectationRefined",),
)  # fmt: skip
WITHDRAW_EXPECTATION = Command(
    "withdraw_expectation", SERVICE, "/expectations/{expectation_id}/withdraw",
    WithdrawExpectation, "Withdraw an expectation, with the reason.",
    events=("ExpectationWithdrawn",),
)  # fmt: skip
MERGE_EXPECTATIONS = Command(
    "merge_expectations", SERVICE, "/expectations/{expectation_id}/merge", MergeExpectations,
    "Merge a duplicate into this expectation; both proposers stay.",
    events=("ExpectationsMerged",),
)  # fmt: skip
GIVE_PROVIDER_ADVICE = Command(
    "give_provider_advice", SERVICE, "/expectations/{expectation_id}/advice",
    GiveProviderAdvice, "The provider's view of importance or feasibility; never counted.",
    events=("ProviderAdviceGiven",),
)  # fmt: skip
COMMIT_TO_EXPECTATION = Command(
    "commit_to_expectation", SERVICE, "/expectations/{expectation_id}/commit",
    CommitToExpectation, "The provider commits to meet the expectation.",
    events=("ExpectationCommitted",),
)  # fmt: skip
DECLINE_EXPECTATION = Command(
    "decline_expectation", SERVICE, "/expectations/{expectation_id}/decline",
    DeclineExpectation, "The provider declines, with the reason.",
    events=("ExpectationDeclined",),
)  # fmt: skip
PROPOSE_OBLIGATION = Command(
    "propose_obligation", SERVICE, "/contracts/{contract_id}/obligations", ProposeObligation,
    "What the provider needs from the client, by when.",
    events=("ObligationProposed",), creates=True,
)  # fmt: skip
ACCEPT_OBLIGATION = Command(
    "accept_obligation", SERVICE, "/obligations/{obligation_id}/accept", AcceptObligation,
    "A client decision maker accepts an obligation.",
    events=("ObligationAccepted",),
)  # fmt: skip
DECLINE_OBLIGATION = Command(
    "decline_obligation", SERVICE, "/obligations/{obligation_id}/decline", DeclineObligation,
    "A client decision maker declines, with the reason.",
    events=("ObligationDeclined",),
)  # fmt: skip
FULFIL_OBLIGATION = Command(
    "fulfil_obligation", SERVICE, "/obligations/{obligation_id}/fulfil", FulfilObligation,
    "The provider records that the client met an accepted obligation.",
    events=("ObligationFulfilled",),
)  # fmt: skip
BREACH_OBLIGATION = Command(
    "breach_obligation", SERVICE, "/obligations/{obligation_id}/breach", BreachObligation,
    "The provider records that the client did not meet an accepted obligation, and its impact.",
    events=("ObligationBreached",),
)  # fmt: skip
DISCLOSE_RISK = Command(
    "disclose_risk", SERVICE, "/contracts/{contract_id}/risks", DiscloseRisk,
    "Disclose a problem, or precondition the client for one.",
    events=("RiskDisclosed",), creates=True,
)  # fmt: skip
ACKNOWLEDGE_RISK = Command(
    "acknowledge_risk", SERVICE, "/risks/{risk_id}/acknowledge", AcknowledgeRisk,
    "A client decision maker confirms they were told.",
    events=("RiskAcknowledged",),
)  # fmt: skip
RECORD_REMEDIAL_ACTION = Command(
    "record_remedial_action", SERVICE, "/risks/{risk_id}/remedial-actions",
    RecordRemedialAction, "Record what was done about a risk.",
    events=("RemedialActionTaken",),
)  # fmt: skip
RESOLVE_RISK = Command(
    "resolve_risk", SERVICE, "/risks/{risk_id}/resolve", ResolveRisk, "Resolve a risk.",
    events=("RiskResolved",),
)  # fmt: skip
RECORD_LESSON_LEARNED = Command(
    "record_lesson_learned", SERVICE, "/contracts/{contract_id}/lessons", RecordLessonLearned,
    "Record a lesson linked to risks or expectations.",
    events=("LessonLearned",), creates=True,
)  # fmt: skip
PLAN_PREVENTIVE_ACTION = Command(
    "plan_preventive_action", SERVICE, "/lessons/{lesson_id}/preventive-actions",
    PlanPreventiveAction, "Plan preventive work that follows from a lesson: what, who, by when.",
    events=("PreventiveActionPlanned",),
)  # fmt: skip
RECORD_MEASUREMENT = Command(
    "record_measurement", SERVICE, "/expectations/{expectation_id}/measurements",
    RecordMeasurement, "Record a measured value for a period.",
    events=("MeasurementRecorded",),
)  # fmt: skip
ACKNOWLEDGE_GAP = Command(
    "acknowledge_gap", SERVICE, "/expectations/{expectation_id}/gaps", AcknowledgeGap,
    "The provider acknowledges a shortfall and its cause.",
    events=("GapAcknowledged",),
)  # fmt: skip
AGREE_RECOVERY_PLAN = Command(
    "agree_recovery_plan", SERVICE, "/expectations/{expectation_id}/gaps/{gap_id}/recovery-plan",
    AgreeRecoveryPlan, "Agree a realistic recovery plan for a gap.",
    events=("RecoveryPlanAgreed",),
)  # fmt: skip
COMPLETE_RECOVERY_STEP = Command(
    "complete_recovery_step", SERVICE, "/expectations/{expectation_id}/gaps/{gap_id}/steps",
    CompleteRecoveryStep, "Complete one step of a recovery plan.",
    events=("RecoveryStepCompleted",),
)  # fmt: skip

COMMANDS: tuple[Command[Body], ...] = (
    OPEN_CONTRACT, JOIN_CONTRACT, LEAVE_CONTRACT, ASK_QUESTION, ANSWER_QUESTION,
    PROPOSE_EXPECTATION, REFINE_EXPECTATION, WITHDRAW_EXPECTATION, MERGE_EXPECTATIONS,
    GIVE_PROVIDER_ADVICE, COMMIT_TO_EXPECTATION, DECLINE_EXPECTATION,
    PROPOSE_OBLIGATION, ACCEPT_OBLIGATION, DECLINE_OBLIGATION, FULFIL_OBLIGATION,
    BREACH_OBLIGATION, DISCLOSE_RISK, ACKNOWLEDGE_RISK, RECORD_REMEDIAL_ACTION, RESOLVE_RISK,
    RECORD_LESSON_LEARNED, PLAN_PREVENTIVE_ACTION, RECORD_MEASUREMENT, ACKNOWLEDGE_GAP,
    AGREE_RECOVERY_PLAN, COMPLETE_RECOVERY_STEP,
)  # fmt: skip
