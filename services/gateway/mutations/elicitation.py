"""The elicitation service's commands as mutations: each input follows from the command's body
model (shared/commands/elicitation.py), with the ids its route names."""

from __future__ import annotations

import dataclasses

import strawberry
import strawberry.experimental.pydantic
from strawberry.types import Info

from services.gateway.commands import Done, run
from services.gateway.context import GatewayContext
from services.gateway.payloads import (
    ContractChanged,
    ContractResult,
    ExpectationResult,
    ObligationResult,
    RiskResult,
    contract_changed,
    expectation_changed,
    obligation_changed,
    risk_changed,
)
from shared.commands import elicitation


async def lesson_contract_changed(ctx: GatewayContext, done: Done) -> ContractChanged:
    """A lesson shows its contract (the lesson is listed there)."""
    contract_id = await ctx.pool.fetchval(
        "SELECT contract_id FROM lessons WHERE lesson_id = $1", done.key
    )
    return await contract_changed(ctx, dataclasses.replace(done, key=contract_id or done.key))


@strawberry.experimental.pydantic.input(model=elicitation.Terms, all_fields=True)
class TermsInput:
    pass


@strawberry.experimental.pydantic.input(model=elicitation.RecoveryStep, all_fields=True)
class RecoveryStepInput:
    pass


@strawberry.experimental.pydantic.input(model=elicitation.OpenContract, all_fields=True)
class OpenContractInput:
    pass


@strawberry.experimental.pydantic.input(model=elicitation.JoinContract, all_fields=True)
class JoinContractInput:
    contract_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.LeaveContract, all_fields=True)
class LeaveContractInput:
    contract_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.AskQuestion, all_fields=True)
class AskQuestionInput:
    contract_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.AnswerQuestion, all_fields=True)
class AnswerQuestionInput:
    contract_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.ProposeExpectation, all_fields=True)
class ProposeExpectationInput:
    contract_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.RefineExpectation, all_fields=True)
class RefineExpectationInput:
    expectation_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.WithdrawExpectation, all_fields=True)
class WithdrawExpectationInput:
    expectation_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.MergeExpectations, all_fields=True)
class MergeExpectationsInput:
    expectation_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.GiveProviderAdvice, all_fields=True)
class GiveProviderAdviceInput:
    expectation_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.CommitToExpectation, all_fields=True)
class CommitToExpectationInput:
    expectation_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.DeclineExpectation, all_fields=True)
class DeclineExpectationInput:
    expectation_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.ProposeObligation, all_fields=True)
class ProposeObligationInput:
    contract_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.AcceptObligation, all_fields=True)
class AcceptObligationInput:
    obligation_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.DeclineObligation, all_fields=True)
class DeclineObligationInput:
    obligation_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.FulfilObligation, all_fields=True)
class FulfilObligationInput:
    obligation_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.BreachObligation, all_fields=True)
class BreachObligationInput:
    obligation_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.DiscloseRisk, all_fields=True)
class DiscloseRiskInput:
    contract_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.AcknowledgeRisk, all_fields=True)
class AcknowledgeRiskInput:
    risk_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.RecordRemedialAction, all_fields=True)
class RecordRemedialActionInput:
    risk_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.ResolveRisk, all_fields=True)
class ResolveRiskInput:
    risk_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.RecordLessonLearned, all_fields=True)
class RecordLessonLearnedInput:
    contract_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.PlanPreventiveAction, all_fields=True)
class PlanPreventiveActionInput:
    lesson_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.RecordMeasurement, all_fields=True)
class RecordMeasurementInput:
    expectation_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.AcknowledgeGap, all_fields=True)
class AcknowledgeGapInput:
    expectation_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.AgreeRecoveryPlan, all_fields=True)
class AgreeRecoveryPlanInput:
    expectation_id: strawberry.ID
    gap_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=elicitation.CompleteRecoveryStep, all_fields=True)
class CompleteRecoveryStepInput:
    expectation_id: strawberry.ID
    gap_id: strawberry.ID


@strawberry.type
class ElicitationMutations:
    @strawberry.mutation(description=elicitation.OPEN_CONTRACT.description)
    async def open_contract(
        self, info: Info[GatewayContext, None], input: OpenContractInput
    ) -> ContractResult:
        return await run(info, elicitation.OPEN_CONTRACT, input, contract_changed)

    @strawberry.mutation(description=elicitation.JOIN_CONTRACT.description)
    async def join_contract(
        self, info: Info[GatewayContext, None], input: JoinContractInput
    ) -> ContractResult:
        return await run(info, elicitation.JOIN_CONTRACT, input, contract_changed)

    @strawberry.mutation(description=elicitation.LEAVE_CONTRACT.description)
    async def leave_contract(
        self, info: Info[GatewayContext, None], input: LeaveContractInput
    ) -> ContractResult:
        return await run(info, elicitation.LEAVE_CONTRACT, input, contract_changed)

    @strawberry.mutation(description=elicitation.ASK_QUESTION.description)
    async def ask_question(
        self, info: Info[GatewayContext, None], input: AskQuestionInput
    ) -> ContractResult:
        return await run(
            info, elicitation.ASK_QUESTION, input, contract_changed, shows="contract_id"
        )

    @strawberry.mutation(description=elicitation.ANSWER_QUESTION.description)
    async def answer_question(
        self, info: Info[GatewayContext, None], input: AnswerQuestionInput
    ) -> ContractResult:
        return await run(
            info, elicitation.ANSWER_QUESTION, input, contract_changed, shows="contract_id"
        )

    @strawberry.mutation(description=elicitation.PROPOSE_EXPECTATION.description)
    async def propose_expectation(
        self, info: Info[GatewayContext, None], input: ProposeExpectationInput
    ) -> ExpectationResult:
        return await run(info, elicitation.PROPOSE_EXPECTATION, input, expectation_changed)

    @strawberry.mutation(description=elicitation.REFINE_EXPECTATION.description)
    async def refine_expectation(
        self, info: Info[GatewayContext, None], input: RefineExpectationInput
    ) -> ExpectationResult:
        return await run(info, elicitation.REFINE_EXPECTATION, input, expectation_changed)

    @strawberry.mutation(description=elicitation.WITHDRAW_EXPECTATION.description)
    async def withdraw_expectation(
        self, info: Info[GatewayContext, None], input: WithdrawExpectationInput
    ) -> ExpectationResult:
        return await run(info, elicitation.WITHDRAW_EXPECTATION, input, expectation_changed)

    @strawberry.mutation(description=elicitation.MERGE_EXPECTATIONS.description)
    async def merge_expectations(
        self, info: Info[GatewayContext, None], input: MergeExpectationsInput
    ) -> ExpectationResult:
        return await run(info, elicitation.MERGE_EXPECTATIONS, input, expectation_changed)

    @strawberry.mutation(description=elicitation.GIVE_PROVIDER_ADVICE.description)
    async def give_provider_advice(
        self, info: Info[GatewayContext, None], input: GiveProviderAdviceInput
    ) -> ExpectationResult:
        return await run(info, elicitation.GIVE_PROVIDER_ADVICE, input, expectation_changed)

    @strawberry.mutation(description=elicitation.COMMIT_TO_EXPECTATION.description)
    async def commit_to_expectation(
        self, info: Info[GatewayContext, None], input: CommitToExpectationInput
    ) -> ExpectationResult:
        return await run(info, elicitation.COMMIT_TO_EXPECTATION, input, expectation_changed)

    @strawberry.mutation(description=elicitation.DECLINE_EXPECTATION.description)
    async def decline_expectation(
        self, info: Info[GatewayContext, None], input: DeclineExpectationInput
    ) -> ExpectationResult:
        return await run(info, elicitation.DECLINE_EXPECTATION, input, expectation_changed)

    @strawberry.mutation(description=elicitation.PROPOSE_OBLIGATION.description)
    async def propose_obligation(
        self, info: Info[GatewayContext, None], input: ProposeObligationInput
    ) -> ObligationResult:
        return await run(info, elicitation.PROPOSE_OBLIGATION, input, obligation_changed)

    @strawberry.mutation(description=elicitation.ACCEPT_OBLIGATION.description)
    async def accept_obligation(
        self, info: Info[GatewayContext, None], input: AcceptObligationInput
    ) -> ObligationResult:
        return await run(info, elicitation.ACCEPT_OBLIGATION, input, obligation_changed)

    @strawberry.mutation(description=elicitation.DECLINE_OBLIGATION.description)
    async def decline_obligation(
        self, info: Info[GatewayContext, None], input: DeclineObligationInput
    ) -> ObligationResult:
        return await run(info, elicitation.DECLINE_OBLIGATION, input, obligation_changed)

    @strawberry.mutation(description=elicitation.FULFIL_OBLIGATION.description)
    async def fulfil_obligation(
        self, info: Info[GatewayContext, None], input: FulfilObligationInput
    ) -> ObligationResult:
        return await run(info, elicitation.FULFIL_OBLIGATION, input, obligation_changed)

    @strawberry.mutation(description=elicitation.BREACH_OBLIGATION.description)
    async def breach_obligation(
        self, info: Info[GatewayContext, None], input: BreachObligationInput
    ) -> ObligationResult:
        return await run(info, elicitation.BREACH_OBLIGATION, input, obligation_changed)

    @strawberry.mutation(description=elicitation.DISCLOSE_RISK.description)
    async def disclose_risk(
        self, info: Info[GatewayContext, None], input: DiscloseRiskInput
    ) -> RiskResult:
        return await run(info, elicitation.DISCLOSE_RISK, input, risk_changed)

    @strawberry.mutation(description=elicitation.ACKNOWLEDGE_RISK.description)
    async def acknowledge_risk(
        self, info: Info[GatewayContext, None], input: AcknowledgeRiskInput
    ) -> RiskResult:
        return await run(info, elicitation.ACKNOWLEDGE_RISK, input, risk_changed)

    @strawberry.mutation(description=elicitation.RECORD_REMEDIAL_ACTION.description)
    async def record_remedial_action(
        self, info: Info[GatewayContext, None], input: RecordRemedialActionInput
    ) -> RiskResult:
        return await run(info, elicitation.RECORD_REMEDIAL_ACTION, input, risk_changed)

    @strawberry.mutation(description=elicitation.RESOLVE_RISK.description)
    async def resolve_risk(
        self, info: Info[GatewayContext, None], input: ResolveRiskInput
    ) -> RiskResult:
        return await run(info, elicitation.RESOLVE_RISK, input, risk_changed)

    @strawberry.mutation(description=elicitation.RECORD_LESSON_LEARNED.description)
    async def record_lesson_learned(
        self, info: Info[GatewayContext, None], input: RecordLessonLearnedInput
    ) -> ContractResult:
        return await run(
            info, elicitation.RECORD_LESSON_LEARNED, input, contract_changed, shows="contract_id"
        )

    @strawberry.mutation(description=elicitation.PLAN_PREVENTIVE_ACTION.description)
    async def plan_preventive_action(
        self, info: Info[GatewayContext, None], input: PlanPreventiveActionInput
    ) -> ContractResult:
        return await run(info, elicitation.PLAN_PREVENTIVE_ACTION, input, lesson_contract_changed)

    @strawberry.mutation(description=elicitation.RECORD_MEASUREMENT.description)
    async def record_measurement(
        self, info: Info[GatewayContext, None], input: RecordMeasurementInput
    ) -> ExpectationResult:
        return await run(info, elicitation.RECORD_MEASUREMENT, input, expectation_changed)

    @strawberry.mutation(description=elicitation.ACKNOWLEDGE_GAP.description)
    async def acknowledge_gap(
        self, info: Info[GatewayContext, None], input: AcknowledgeGapInput
    ) -> ExpectationResult:
        return await run(info, elicitation.ACKNOWLEDGE_GAP, input, expectation_changed)

    @strawberry.mutation(description=elicitation.AGREE_RECOVERY_PLAN.description)
    async def agree_recovery_plan(
        self, info: Info[GatewayContext, None], input: AgreeRecoveryPlanInput
    ) -> ExpectationResult:
        return await run(info, elicitation.AGREE_RECOVERY_PLAN, input, expectation_changed)

    @strawberry.mutation(description=elicitation.COMPLETE_RECOVERY_STEP.description)
    async def complete_recovery_step(
        self, info: Info[GatewayContext, None], input: CompleteRecoveryStepInput
    ) -> ExpectationResult:
        return await run(info, elicitation.COMPLETE_RECOVERY_STEP, input, expectation_changed)
