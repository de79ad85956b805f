"""The mutations: one per command, forwarded to the owning service with the caller's token.

Each answers a union of a success payload and typed refusals. The success payload shows the
changed object from the read model once the projector has applied the command's own events
(read-your-writes); after a short bounded wait it answers anyway, with `consistent: false`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

import strawberry
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from services.gateway import inputs
from services.gateway.access import actor_of, sees, unseen
from services.gateway.commands import Done
from services.gateway.consistency import caught_up, events_of_command
from services.gateway.context import GatewayContext
from services.gateway.forwarding import Accepted, forward
from services.gateway.ids import NotAnId, path, uuid_text
from services.gateway.outcomes import (
    BadInput,
    Refusal,
    Unavailable,
    refusal,
)
from services.gateway.payloads import (
    ContractResult,
    ExpectationResult,
    ObligationResult,
    RiskResult,
    contract_changed,
    expectation_changed,
    obligation_changed,
    risk_changed,
)
from services.gateway.protection import log_refusal


@dataclass(frozen=True)
class Forward:
    """One mutation: its input, the service and path it goes to, and what it answers with."""

    input: type
    service: str
    path: str
    answer: Callable[[GatewayContext, Done], Awaitable[Any]]
    result: Any
    description: str
    # The command creates the object it acts on (a contract, an expectation...): its id is new.
    creates: bool = False
    # The path segment naming the object to show, when it is not the one the command changed.
    shows: str | None = None

    @property
    def segments(self) -> list[str]:
        """The input fields that name the objects in the path, outermost first."""
        return re.findall(r"{(\w+)}", self.path)


MUTATIONS: dict[str, Forward] = {
    "open_contract": Forward(inputs.OpenContractInput, "elicitation", "/contracts", contract_changed, ContractResult, "Open a contract; the opener joins it with their role.", creates=True),
    "join_contract": Forward(inputs.JoinContractInput, "elicitation", "/contracts/{contract_id}/participants", contract_changed, ContractResult, "Add a participant to the contract."),
    "ask_question": Forward(inputs.AskQuestionInput, "elicitation", "/contracts/{contract_id}/questions", contract_changed, ContractResult, "Ask a decision maker a probing question.", shows="contract_id"),
    "answer_question": Forward(inputs.AnswerQuestionInput, "elicitation", "/contracts/{contract_id}/answers", contract_changed, ContractResult, "Record the answer to a question.", shows="contract_id"),
    "propose_expectation": Forward(inputs.ProposeExpectationInput, "elicitation", "/contracts/{contract_id}/expectations", expectation_changed, ExpectationResult, "A client decision maker proposes an expectation.", creates=True),
    "refine_expectation": Forward(inputs.RefineExpectationInput, "elicitation", "/expectations/{expectation_id}/refine", expectation_changed, ExpectationResult, "Reword an expectation and state its measurable terms."),
    "withdraw_expectation": Forward(inputs.WithdrawExpectationInput, "elicitation", "/expectations/{expectation_id}/withdraw", expectation_changed, ExpectationResult, "Withdraw an expectation, with the reason."),
    "merge_expectations": Forward(inputs.MergeExpectationsInput, "elicitation", "/expectations/{expectation_id}/merge", expectation_changed, ExpectationResult, "Merge a duplicate into this expectation; both proposers stay."),
    "give_provider_advice": Forward(inputs.GiveProviderAdviceInput, "elicitation", "/expectations/{expectation_id}/advice", expectation_changed, ExpectationResult, "The provider's view of importance or feasibility; never counted."),
    "commit_to_expectation": Forward(inputs.CommitToExpectationInput, "elicitation", "/expectations/{expectation_id}/commit", expectation_changed, ExpectationResult, "The provider commits to meet the expectation."),
    "decline_expectation": Forward(inputs.DeclineExpectationInput, "elicitation", "/expectations/{expectation_id}/decline", expectation_changed, ExpectationResult, "The provider declines, with the reason."),
    "propose_obligation": Forward(inputs.ProposeObligationInput, "elicitation", "/contracts/{contract_id}/obligations", obligation_changed, ObligationResult, "What the provider needs from the client, by when.", creates=True),
    "accept_obligation": Forward(inputs.AcceptObligationInput, "elicitation", "/obligations/{obligation_id}/accept", obligation_changed, ObligationResult, "A client decision maker accepts an obligation."),
    "decline_obligation": Forward(inputs.DeclineObligationInput, "elicitation", "/obligations/{obligation_id}/decline", obligation_changed, ObligationResult, "A client decision maker declines, with the reason."),
    "disclose_risk": Forward(inputs.DiscloseRiskInput, "elicitation", "/contracts/{contract_id}/risks", risk_changed, RiskResult, "Disclose a problem, or precondition the client for one.", creates=True),
    "acknowledge_risk": Forward(inputs.AcknowledgeRiskInput, "elicitation", "/risks/{risk_id}/acknowledge", risk_changed, RiskResult, "A client decision maker confirms they were told."),
    "record_remedial_action": Forward(inputs.RecordRemedialActionInput, "elicitation", "/risks/{risk_id}/remedial-actions", risk_changed, RiskResult, "Record what was done about a risk."),
    "resolve_risk": Forward(inputs.ResolveRiskInput, "elicitation", "/risks/{risk_id}/resolve", risk_changed, RiskResult, "Resolve a risk."),
    "record_lesson_learned": Forward(inputs.RecordLessonLearnedInput, "elicitation", "/contracts/{contract_id}/lessons", contract_changed, ContractResult, "Record a lesson linked to risks or expectations.", creates=True, shows="contract_id"),
    "record_measurement": Forward(inputs.RecordMeasurementInput, "elicitation", "/expectations/{expectation_id}/measurements", expectation_changed, ExpectationResult, "Record a measured value for a period."),
    "acknowledge_gap": Forward(inputs.AcknowledgeGapInput, "elicitation", "/expectations/{expectation_id}/gaps", expectation_changed, ExpectationResult, "The provider acknowledges a shortfall and its cause."),
    "agree_recovery_plan": Forward(inputs.AgreeRecoveryPlanInput, "elicitation", "/expectations/{expectation_id}/gaps/{gap_id}/recovery-plan", expectation_changed, ExpectationResult, "Agree a realistic recovery plan for a gap."),
    "complete_recovery_step": Forward(inputs.CompleteRecoveryStepInput, "elicitation", "/expectations/{expectation_id}/gaps/{gap_id}/steps", expectation_changed, ExpectationResult, "Complete one step of a recovery plan."),
}  # fmt: skip


def _id_fields(kind: type) -> dict[str, bool]:
    """The fields of an input that hold ids, each with whether it holds a list of them."""
    found: dict[str, bool] = {}
    for name, hint in get_type_hints(kind).items():
        for option in get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,):
            if option is strawberry.ID:
                found[name] = False
            elif get_origin(option) is list and get_args(option) == (strawberry.ID,):
                found[name] = True
    return found


_ID_FIELDS: dict[type, dict[str, bool]] = {}


def _plain(value: Any) -> Any:
    """JSON for the service: dates as ISO text, nested inputs as objects, ids as UUIDs (NotAnId
    for one that is not)."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = type(value)
        ids = _ID_FIELDS.get(kind)
        if ids is None:
            ids = _ID_FIELDS[kind] = _id_fields(kind)
        plain: dict[str, Any] = {}
        for field in dataclasses.fields(value):
            item, name = getattr(value, field.name), to_camel_case(field.name)
            if item is None or field.name not in ids:
                plain[field.name] = _plain(item)
            elif ids[field.name]:
                plain[field.name] = [uuid_text(one, name) for one in item]
            else:
                plain[field.name] = uuid_text(item, name)
        return plain
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def _unseen(ctx: GatewayContext, segments: dict[str, str], refusal: Refusal) -> Refusal:
    """The refusal as the caller may see it: to someone with no role on the contract of the
    object the mutation names, one that exists and one that does not are refused alike."""
    if not segments or isinstance(refusal, Unavailable):
        return refusal
    field, key = next(iter(segments.items()))
    if await sees(ctx, field, key):
        return refusal
    return unseen(ctx, field, key)


def _refused(ctx: GatewayContext, answer: Refusal) -> Refusal:
    log_refusal(ctx.request_id, answer.code, answer.message)
    return answer


def _resolver(spec: Forward) -> Callable[..., Awaitable[Any]]:
    async def resolve(info: Info[GatewayContext, None], input: Any) -> Any:
        ctx = info.context
        actor_of(ctx)
        try:
            body = _plain(input)
        except NotAnId as error:
            details = {"field": error.field, "value": error.value}
            return _refused(ctx, refusal(BadInput, "ID_INVALID", str(error), details))
        segments = {name: body.pop(name) for name in spec.segments}
        outcome = await forward(ctx, spec.service, path(spec.path, **segments), body)
        if not isinstance(outcome, Accepted):
            return _refused(ctx, await _unseen(ctx, segments, outcome))
        stored = events_of_command(outcome.id, outcome.version, len(outcome.positions))
        consistent = await caught_up(
            ctx.pool, stored, ctx.settings.read_your_writes_seconds, ctx.changes
        )
        created = outcome.created or (outcome.id if spec.creates else None)
        key = segments[spec.shows] if spec.shows else outcome.id
        done = Done(key, outcome.version, consistent, None if created is None else strawberry.ID(created))  # fmt: skip
        return await spec.answer(ctx, done)

    resolve.__annotations__ = {
        "info": Info[GatewayContext, None],
        "input": spec.input,
        "return": spec.result,
    }
    return resolve


ElicitationMutations = strawberry.type(
    type(
        "ElicitationMutations",
        (),
        {
            name: strawberry.mutation(resolver=_resolver(spec), description=spec.description)
            for name, spec in MUTATIONS.items()
        },
    )
)
