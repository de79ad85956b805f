"""The mutations: one per command, forwarded to the owning service with the caller's token.

Each answers a union of a success payload and typed refusals. The success payload shows the
changed object from the read model once the projector has applied the command's own events
(read-your-writes); after a short bounded wait it answers anyway, with `consistent: false`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from services.gateway import inputs, reads
from services.gateway.access import actor_of
from services.gateway.consistency import caught_up, events_of_command
from services.gateway.context import GatewayContext
from services.gateway.forwarding import Accepted, forward
from services.gateway.outcomes import BadInput, Conflict, Forbidden, NotFound, Unavailable
from services.gateway.queries import Contract, load_contract
from services.gateway.types import Expectation, Obligation, Prioritization, Risk


@strawberry.type
class ContractChanged:
    contract: Contract | None
    version: int
    consistent: bool = strawberry.field(description="False if the read model had not yet caught up.")  # fmt: skip
    created: strawberry.ID | None = None


@strawberry.type
class ExpectationChanged:
    expectation: Expectation | None
    version: int
    consistent: bool
    created: strawberry.ID | None = None


@strawberry.type
class ObligationChanged:
    obligation: Obligation | None
    version: int
    consistent: bool


@strawberry.type
class RiskChanged:
    risk: Risk | None
    version: int
    consistent: bool


@strawberry.type
class PrioritizationChanged:
    prioritization: Prioritization | None
    version: int
    consistent: bool


Refusals = BadInput | NotFound | Forbidden | Conflict | Unavailable
ContractResult = Annotated[ContractChanged | Refusals, strawberry.union("ContractResult")]
ExpectationResult = Annotated[ExpectationChanged | Refusals, strawberry.union("ExpectationResult")]
ObligationResult = Annotated[ObligationChanged | Refusals, strawberry.union("ObligationResult")]
RiskResult = Annotated[RiskChanged | Refusals, strawberry.union("RiskResult")]
PrioritizationResult = Annotated[
    PrioritizationChanged | Refusals, strawberry.union("PrioritizationResult")
]


async def _contract(ctx: GatewayContext, accepted: Accepted, ok: bool) -> ContractChanged:
    found = await load_contract(ctx, accepted.id)
    created = None if accepted.created is None else strawberry.ID(accepted.created)
    return ContractChanged(contract=found, version=accepted.version, consistent=ok, created=created)


async def _expectation(ctx: GatewayContext, accepted: Accepted, ok: bool) -> ExpectationChanged:
    found = await reads.expectation(ctx.pool, accepted.id)
    created = None if accepted.created is None else strawberry.ID(accepted.created)
    return ExpectationChanged(expectation=found, version=accepted.version, consistent=ok, created=created)  # fmt: skip


async def _obligation(ctx: GatewayContext, accepted: Accepted, ok: bool) -> ObligationChanged:
    row = await ctx.pool.fetchval(
        "SELECT contract_id FROM obligations WHERE obligation_id = $1", accepted.id
    )
    found = (
        [o for o in (await reads.obligations_of(ctx.pool, [row]))[0] if o.id == accepted.id]
        if row
        else []
    )
    return ObligationChanged(obligation=found[0] if found else None, version=accepted.version, consistent=ok)  # fmt: skip


async def _risk(ctx: GatewayContext, accepted: Accepted, ok: bool) -> RiskChanged:
    row = await ctx.pool.fetchval("SELECT contract_id FROM risks WHERE risk_id = $1", accepted.id)
    found = (
        [r for r in (await reads.risks_of(ctx.pool, [row]))[0] if r.id == accepted.id]
        if row
        else []
    )
    return RiskChanged(risk=found[0] if found else None, version=accepted.version, consistent=ok)


async def _prioritization(
    ctx: GatewayContext, accepted: Accepted, ok: bool
) -> PrioritizationChanged:
    found = await reads.prioritization(ctx.pool, accepted.id)
    return PrioritizationChanged(prioritization=found, version=accepted.version, consistent=ok)


@dataclass(frozen=True)
class Forward:
    """One mutation: its input, the service and path it goes to, and what it answers with."""

    input: type
    service: str
    path: str
    answer: Callable[[GatewayContext, Accepted, bool], Awaitable[Any]]
    result: Any
    description: str


MUTATIONS: dict[str, Forward] = {
    "open_contract": Forward(inputs.OpenContractInput, "elicitation", "/contracts", _contract, ContractResult, "Open a contract; the opener joins it with their role."),
    "join_contract": Forward(inputs.JoinContractInput, "elicitation", "/contracts/{contract_id}/participants", _contract, ContractResult, "Add a participant to the contract."),
    "ask_question": Forward(inputs.AskQuestionInput, "elicitation", "/contracts/{contract_id}/questions", _contract, ContractResult, "Ask a decision maker a probing question."),
    "answer_question": Forward(inputs.AnswerQuestionInput, "elicitation", "/contracts/{contract_id}/answers", _contract, ContractResult, "Record the answer to a question."),
    "propose_expectation": Forward(inputs.ProposeExpectationInput, "elicitation", "/contracts/{contract_id}/expectations", _expectation, ExpectationResult, "A client decision maker proposes an expectation."),
    "refine_expectation": Forward(inputs.RefineExpectationInput, "elicitation", "/expectations/{expectation_id}/refine", _expectation, ExpectationResult, "Reword an expectation and state its measurable terms."),
    "withdraw_expectation": Forward(inputs.WithdrawExpectationInput, "elicitation", "/expectations/{expectation_id}/withdraw", _expectation, ExpectationResult, "Withdraw an expectation, with the reason."),
    "merge_expectations": Forward(inputs.MergeExpectationsInput, "elicitation", "/expectations/{expectation_id}/merge", _expectation, ExpectationResult, "Merge a duplicate into this expectation; both proposers stay."),
    "give_provider_advice": Forward(inputs.GiveProviderAdviceInput, "elicitation", "/expectations/{expectation_id}/advice", _expectation, ExpectationResult, "The provider's view of importance or feasibility; never counted."),
    "commit_to_expectation": Forward(inputs.CommitToExpectationInput, "elicitation", "/expectations/{expectation_id}/commit", _expectation, ExpectationResult, "The provider commits to meet the expectation."),
    "decline_expectation": Forward(inputs.DeclineExpectationInput, "elicitation", "/expectations/{expectation_id}/decline", _expectation, ExpectationResult, "The provider declines, with the reason."),
    "propose_obligation": Forward(inputs.ProposeObligationInput, "elicitation", "/contracts/{contract_id}/obligations", _obligation, ObligationResult, "What the provider needs from the client, by when."),
    "accept_obligation": Forward(inputs.AcceptObligationInput, "elicitation", "/obligations/{obligation_id}/accept", _obligation, ObligationResult, "A client decision maker accepts an obligation."),
    "decline_obligation": Forward(inputs.DeclineObligationInput, "elicitation", "/obligations/{obligation_id}/decline", _obligation, ObligationResult, "A client decision maker declines, with the reason."),
    "disclose_risk": Forward(inputs.DiscloseRiskInput, "elicitation", "/contracts/{contract_id}/risks", _risk, RiskResult, "Disclose a problem, or precondition the client for one."),
    "acknowledge_risk": Forward(inputs.AcknowledgeRiskInput, "elicitation", "/risks/{risk_id}/acknowledge", _risk, RiskResult, "A client decision maker confirms they were told."),
    "record_remedial_action": Forward(inputs.RecordRemedialActionInput, "elicitation", "/risks/{risk_id}/remedial-actions", _risk, RiskResult, "Record what was done about a risk."),
    "resolve_risk": Forward(inputs.ResolveRiskInput, "elicitation", "/risks/{risk_id}/resolve", _risk, RiskResult, "Resolve a risk."),
    "record_lesson_learned": Forward(inputs.RecordLessonLearnedInput, "elicitation", "/contracts/{contract_id}/lessons", _contract, ContractResult, "Record a lesson linked to risks or expectations."),
    "record_measurement": Forward(inputs.RecordMeasurementInput, "elicitation", "/expectations/{expectation_id}/measurements", _expectation, ExpectationResult, "Record a measured value for a period."),
    "acknowledge_gap": Forward(inputs.AcknowledgeGapInput, "elicitation", "/expectations/{expectation_id}/gaps", _expectation, ExpectationResult, "The provider acknowledges a shortfall and its cause."),
    "agree_recovery_plan": Forward(inputs.AgreeRecoveryPlanInput, "elicitation", "/expectations/{expectation_id}/gaps/{gap_id}/recovery-plan", _expectation, ExpectationResult, "Agree a realistic recovery plan for a gap."),
    "complete_recovery_step": Forward(inputs.CompleteRecoveryStepInput, "elicitation", "/expectations/{expectation_id}/gaps/{gap_id}/steps", _expectation, ExpectationResult, "Complete one step of a recovery plan."),
    "open_prioritization": Forward(inputs.OpenPrioritizationInput, "ranking", "/contracts/{contract_id}/prioritizations", _prioritization, PrioritizationResult, "Open a vote on the contract's measurable expectations."),
    "cast_vote": Forward(inputs.CastVoteInput, "ranking", "/prioritizations/{prioritization_id}/votes", _prioritization, PrioritizationResult, "Cast (or replace) the caller's ballot."),
    "close_prioritization": Forward(inputs.ClosePrioritizationInput, "ranking", "/prioritizations/{prioritization_id}/close", _prioritization, PrioritizationResult, "Close the vote and publish the corporate ranking."),
}  # fmt: skip


def _plain(value: Any) -> Any:
    """JSON for the service: dates as ISO text, nested inputs as objects."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _resolver(spec: Forward) -> Callable[..., Awaitable[Any]]:
    async def resolve(info: Info[GatewayContext, None], input: Any) -> Any:
        ctx = info.context
        actor_of(ctx)
        body = {k: _plain(v) for k, v in dataclasses.asdict(input).items()}
        path = spec.path.format(**body)
        for name in spec.path.split("{")[1:]:
            body.pop(name.split("}")[0])
        outcome = await forward(ctx, spec.service, path, body)
        if not isinstance(outcome, Accepted):
            return outcome
        stored = events_of_command(outcome.id, outcome.version, len(outcome.positions))
        consistent = await caught_up(
            ctx.pool, stored, ctx.settings.read_your_writes_seconds, ctx.changes
        )
        return await spec.answer(ctx, outcome, consistent)

    resolve.__annotations__ = {
        "info": Info[GatewayContext, None],
        "input": spec.input,
        "return": spec.result,
    }
    return resolve


Mutation = strawberry.type(
    type(
        "Mutation",
        (),
        {
            name: strawberry.mutation(resolver=_resolver(spec), description=spec.description)
            for name, spec in MUTATIONS.items()
        },
    )
)
