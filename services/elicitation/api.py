"""The elicitation service's HTTP endpoints: one per command, JSON in and out, bearer-authenticated.

Each command answers with the aggregate id, its new version and the positions of the events it
stored, so the gateway can wait until its read model has caught up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute

from services.elicitation.application import Expectations
from shared.auth import Actor
from shared.bus import Bus
from shared.commands.result import CommandResult
from shared.http import command, query
from shared.runtime import ServiceRuntime
from shared.service_app import runtime_of, service_app
from shared.settings import Settings
from shared.values import Amount, Day, Integer, LongText, Text

SERVICE = "elicitation"
# What the API stamps until the application has loaded the contract and knows the actor's role.
ROLE_FROM_THE_CONTRACT = ""


class Body(BaseModel):
    """A command's JSON body: unknown fields are refused, not silently dropped; every value is
    one the read models can hold (shared/values.py), the domain's own rules come after."""

    model_config = ConfigDict(extra="forbid")


class Versioned(Body):
    expected_version: Integer | None = None


class OpenContract(Body):
    client_organisation: Text
    provider_organisation: Text
    title: Text
    starts_on: Day
    name: Text
    role: Text
    side: Text | None = None
    email: Text = ""
    phone: Text = ""


class JoinParticipant(Versioned):
    person_id: Text
    name: Text
    role: Text
    side: Text | None = None
    email: Text = ""
    phone: Text = ""


class LeaveParticipant(Versioned):
    person_id: Text
    reason: LongText = ""


class AskQuestion(Versioned):
    asked_of: Text
    business_area: Text
    text: LongText


class AnswerQuestion(Versioned):
    question_id: UUID
    answer: LongText


class ProposeExpectation(Body):
    text: LongText
    business_area: Text
    why_it_matters: LongText = ""
    from_answers: list[UUID] = []


# A term as typed in: a label, a number, a date (as text); the domain parses each by name.
TermValue = Amount | Text | None


class RefineExpectation(Versioned):
    text: LongText
    terms: dict[Text, TermValue]
    reason: LongText


class WithdrawExpectation(Versioned):
    reason: LongText


class MergeExpectations(Versioned):
    merged_expectation_id: UUID
    reason: LongText
    merged_expected_version: Integer | None = None


class GiveProviderAdvice(Versioned):
    advice: LongText
    importance: Text | None = None
    feasibility: Text | None = None


class CommitExpectation(Versioned):
    note: LongText = ""


class WithReason(Versioned):
    reason: LongText


class ProposeObligation(Body):
    what: LongText
    needed_from: Text
    due_on: Day
    depends_on: list[UUID] = []


class Decide(Versioned):
    pass


class FulfilObligation(Versioned):
    note: LongText = ""


class BreachObligation(Versioned):
    what_happened: LongText
    impact: LongText = ""


class DiscloseRisk(Body):
    kind: Text
    title: Text
    description: LongText
    likelihood: Integer
    impact: Integer
    affected_expectations: list[UUID] = []
    prepare_for: LongText = ""


class RemedialAction(Versioned):
    action: LongText


class ResolveRisk(Versioned):
    resolution: LongText


class RecordLesson(Body):
    lesson: LongText
    risk_ids: list[UUID] = []
    expectation_ids: list[UUID] = []


class PlanPreventiveAction(Versioned):
    action: LongText
    owner: Text
    due_on: Day


class RecordMeasurement(Versioned):
    period_start: Day
    period_end: Day
    value: Amount
    source: Text


class AcknowledgeGap(Versioned):
    measurement_id: UUID
    cause: LongText


class Step(Body):
    action: LongText
    owner: Text
    due_on: Day


class AgreeRecoveryPlan(Versioned):
    steps: list[Step]
    agreed_with: Text
    revised_target: Amount | None = None
    revised_target_upper: Amount | None = None


class CompleteRecoveryStep(Versioned):
    step: Integer
    note: LongText = ""


@dataclass(frozen=True)
class Command:
    """One endpoint: the resource it acts on (named in its path), its body, the method it calls.

    `leading` names body fields that the application takes positionally after the resource id.
    """

    path: str
    body: type[Body]
    method: str
    resource: str | None
    leading: tuple[str, ...] = ()
    # The command tells the application whether the caller is a configured administrator.
    administered: bool = False


COMMANDS = [
    Command("/contracts", OpenContract, "open_contract", None),
    Command("/contracts/{id}/participants", JoinParticipant, "join_participant", "contract", administered=True),
    Command("/contracts/{id}/participants/leave", LeaveParticipant, "leave_participant", "contract", administered=True),
    Command("/contracts/{id}/questions", AskQuestion, "ask_question", "contract"),
    Command("/contracts/{id}/answers", AnswerQuestion, "answer_question", "contract", ("question_id",)),
    Command("/contracts/{id}/expectations", ProposeExpectation, "propose_expectation", "contract"),
    Command("/expectations/{id}/refine", RefineExpectation, "refine_expectation", "expectation"),
    Command("/expectations/{id}/withdraw", WithdrawExpectation, "withdraw_expectation", "expectation"),
    Command("/expectations/{id}/merge", MergeExpectations, "merge_expectations", "expectation", ("merged_expectation_id",)),
    Command("/expectations/{id}/advice", GiveProviderAdvice, "give_provider_advice", "expectation"),
    Command("/expectations/{id}/commit", CommitExpectation, "commit_expectation", "expectation"),
    Command("/expectations/{id}/decline", WithReason, "decline_expectation", "expectation"),
    Command("/contracts/{id}/obligations", ProposeObligation, "propose_obligation", "contract"),
    Command("/obligations/{id}/accept", Decide, "accept_obligation", "obligation"),
    Command("/obligations/{id}/decline", WithReason, "decline_obligation", "obligation"),
    Command("/obligations/{id}/fulfil", FulfilObligation, "fulfil_obligation", "obligation"),
    Command("/obligations/{id}/breach", BreachObligation, "breach_obligation", "obligation"),
    Command("/contracts/{id}/risks", DiscloseRisk, "disclose_risk", "contract"),
    Command("/risks/{id}/acknowledge", Decide, "acknowledge_risk", "risk"),
    Command("/risks/{id}/remedial-actions", RemedialAction, "take_remedial_action", "risk"),
    Command("/risks/{id}/resolve", ResolveRisk, "resolve_risk", "risk"),
    Command("/contracts/{id}/lessons", RecordLesson, "record_lesson", "contract"),
    Command("/lessons/{id}/preventive-actions", PlanPreventiveAction, "plan_preventive_action", "lesson"),
    Command("/expectations/{id}/measurements", RecordMeasurement, "record_measurement", "expectation"),
    Command("/expectations/{id}/gaps", AcknowledgeGap, "acknowledge_gap", "expectation", ("measurement_id",)),
    Command("/expectations/{id}/gaps/{gap_id}/recovery-plan", AgreeRecoveryPlan, "agree_recovery_plan", "expectation"),
    Command("/expectations/{id}/gaps/{gap_id}/steps", CompleteRecoveryStep, "complete_recovery_step", "expectation", ("step",)),
]  # fmt: skip


def _runtime(request: Request) -> ServiceRuntime[Expectations]:
    runtime: ServiceRuntime[Expectations] = runtime_of(request)
    return runtime


def handler(spec: Command) -> Any:
    async def handle(actor: Actor, body: Body, request: Request) -> dict[str, Any]:
        runtime = _runtime(request)
        fields = body.model_dump()
        args: list[Any] = []
        if spec.resource is not None:
            args.append(request.path_params["id"])
            if "gap_id" in request.path_params:
                args.append(request.path_params["gap_id"])
        args.extend(fields.pop(name) for name in spec.leading)
        if isinstance(body, AgreeRecoveryPlan):
            fields["steps"] = [step.model_dump() for step in body.steps]
        if spec.administered:
            fields["administrator"] = actor.subject in request.app.state.administrators
        result: CommandResult = await runtime.execute(
            getattr(runtime.app, spec.method),
            *args,
            by=actor.subject,
            actor_id=actor.subject,
            # The application stamps the role the actor holds on the contract it loads.
            actor_role=ROLE_FROM_THE_CONTRACT,
            correlation_id=request.headers.get("x-correlation-id", ""),
            causation_id=request.headers.get("x-causation-id", ""),
            **fields,
        )
        return result.as_dict()

    return handle


async def show_contract(actor: Actor, request: Request) -> dict[str, Any]:
    """The contract as the service holds it, for its participants (auditors included)."""
    runtime = _runtime(request)
    contract = await runtime.executor.run(
        runtime.app.contract_for, request.path_params["id"], actor.subject
    )
    return {
        "id": str(contract.id),
        "version": contract.version,
        "title": contract.title,
        "client_organisation": contract.client_organisation,
        "provider_organisation": contract.provider_organisation,
        "starts_on": contract.starts_on.isoformat(),
        "participants": [
            {"person_id": p.person_id, "name": p.name, "side": p.side.value, "role": p.role.value}
            for p in contract.participants.values()
        ],
    }


async def show_expectation(actor: Actor, request: Request) -> dict[str, Any]:
    """The expectation now, and what it still lacks to be measurable."""
    runtime = _runtime(request)
    expectation = await runtime.executor.run(
        runtime.app.expectation_for, request.path_params["id"], actor.subject
    )
    return {
        "id": str(expectation.id),
        "version": expectation.version,
        "contract_id": str(expectation.contract_id),
        "revision": expectation.revision,
        "text": expectation.text,
        "status": expectation.status.value,
        "terms": expectation.terms.as_event_data(),
        "measurable": expectation.is_measurable,
        "missing_for_measurable": expectation.missing_for_measurable(),
        "proposers": list(expectation.proposers),
    }


ROUTES: list[BaseRoute] = [
    *(command(spec.path, spec.body, handler(spec)) for spec in COMMANDS),
    query("/contracts/{id}", show_contract),
    query("/expectations/{id}", show_expectation),
]


def create_app(settings: Settings, bus: Bus) -> Starlette:
    app = service_app(SERVICE, Expectations, settings, bus, ROUTES)
    app.state.administrators = settings.administrators
    return app
