"""The elicitation service's HTTP endpoints: one per command, JSON in and out, bearer-authenticated.

Each command is declared in shared/commands/elicitation.py (its path and body); its handler
here is named after it and calls the application's method of the same name. Each answers with
the aggregate id, its new version and the positions of the events it stored, so the gateway can
wait until its read model has caught up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from asyncpg import Pool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute

from services.elicitation import agreed_set_view, suspect_view
from services.elicitation.agreed_set_view import Listed
from services.elicitation.application import Elicitation
from services.elicitation.baseline import authenticated_at
from services.elicitation.baseline_errors import AgreedSetCatchingUp
from services.elicitation.deadlines import DeadlineView, policy_defaults
from services.elicitation.delivery import PlannedStep
from services.elicitation.suspect_link import SuspectLinksCatchingUp
from shared.auth import Actor
from shared.bus import Bus
from shared.commands import assumptions, baselines, deadlines, elicitation, suspects
from shared.commands.assumptions import RecordAssumption
from shared.commands.baselines import ProposeBaseline, RevokeBaseline, SignBaseline
from shared.commands.deadlines import SetDeadlinePolicy
from shared.commands.elicitation import (
    AcceptObligation,
    AcknowledgeGap,
    AcknowledgeRisk,
    AgreeRecoveryPlan,
    AnswerQuestion,
    AskQuestion,
    BreachObligation,
    CommitToExpectation,
    CompleteRecoveryStep,
    DeclineExpectation,
    DeclineObligation,
    DiscloseRisk,
    FulfilObligation,
    GiveProviderAdvice,
    JoinContract,
    LeaveContract,
    MergeExpectations,
    OpenContract,
    PlanPreventiveAction,
    ProposeExpectation,
    ProposeObligation,
    RecordLessonLearned,
    RecordMeasurement,
    RecordRemedialAction,
    RefineExpectation,
    ResolveRisk,
    WithdrawExpectation,
)
from shared.commands.result import CommandResult
from shared.commands.suspects import ReviewSuspect
from shared.http import query, route
from shared.runtime import ServiceRuntime
from shared.service_app import View, runtime_of, service_app, views_of
from shared.settings import Settings

SERVICE = elicitation.SERVICE
# What the API stamps until the application has loaded the contract and knows the actor's role.
ROLE_FROM_THE_CONTRACT = ""

Reply = dict[str, Any]


def _runtime(request: Request) -> ServiceRuntime[Elicitation]:
    runtime: ServiceRuntime[Elicitation] = runtime_of(request)
    return runtime


def _id(request: Request, segment: str) -> UUID:
    """The id a path segment names (parsed as a UUID before the handler runs)."""
    found: UUID = request.path_params[segment]
    return found


def _administrator(actor: Actor, request: Request) -> bool:
    """Whether the caller is one of the configured administrators (who may appoint anyone)."""
    return actor.subject in request.app.state.administrators


async def _run(
    actor: Actor, request: Request, command: Callable[[Elicitation], CommandResult]
) -> Reply:
    """Run `command` on the application as the caller, off the event loop."""
    runtime = _runtime(request)
    app = runtime.app
    result = await runtime.execute(
        lambda: command(app),
        actor_id=actor.subject,
        # The application stamps the role the actor holds on the contract it loads.
        actor_role=ROLE_FROM_THE_CONTRACT,
        correlation_id=request.headers.get("x-correlation-id", ""),
        causation_id=request.headers.get("x-causation-id", ""),
    )
    return result.as_dict()


# Contract and participants


async def open_contract(actor: Actor, body: OpenContract, request: Request) -> Reply:
    return await _run(actor, request, lambda app: app.open_contract(
        by=actor.subject, client_organisation=body.client_organisation,
        provider_organisation=body.provider_organisation, title=body.title,
        starts_on=body.starts_on, name=body.name, role=body.role, side=body.side,
        email=body.email, phone=body.phone,
    ))  # fmt: skip


async def join_contract(actor: Actor, body: JoinContract, request: Request) -> Reply:
    contract_id = _id(request, "contract_id")
    administrator = _administrator(actor, request)
    return await _run(actor, request, lambda app: app.join_contract(
        contract_id, by=actor.subject, person_id=body.person_id, name=body.name,
        role=body.role, side=body.side, email=body.email, phone=body.phone,
        expected_version=body.expected_version, administrator=administrator,
    ))  # fmt: skip


async def leave_contract(actor: Actor, body: LeaveContract, request: Request) -> Reply:
    contract_id = _id(request, "contract_id")
    administrator = _administrator(actor, request)
    return await _run(actor, request, lambda app: app.leave_contract(
        contract_id, by=actor.subject, person_id=body.person_id, reason=body.reason,
        expected_version=body.expected_version, administrator=administrator,
    ))  # fmt: skip


async def ask_question(actor: Actor, body: AskQuestion, request: Request) -> Reply:
    contract_id = _id(request, "contract_id")
    return await _run(actor, request, lambda app: app.ask_question(
        contract_id, by=actor.subject, asked_of=body.asked_of,
        business_area=body.business_area, text=body.text,
        expected_version=body.expected_version,
    ))  # fmt: skip


async def answer_question(actor: Actor, body: AnswerQuestion, request: Request) -> Reply:
    contract_id = _id(request, "contract_id")
    return await _run(actor, request, lambda app: app.answer_question(
        contract_id, body.question_id, by=actor.subject, answer=body.answer,
        expected_version=body.expected_version,
    ))  # fmt: skip


# Expectations


async def propose_expectation(actor: Actor, body: ProposeExpectation, request: Request) -> Reply:
    contract_id = _id(request, "contract_id")
    return await _run(actor, request, lambda app: app.propose_expectation(
        contract_id, by=actor.subject, text=body.text, business_area=body.business_area,
        why_it_matters=body.why_it_matters, from_answers=body.from_answers,
    ))  # fmt: skip


async def refine_expectation(actor: Actor, body: RefineExpectation, request: Request) -> Reply:
    expectation_id = _id(request, "expectation_id")
    await _suspects_caught_up(request)
    candidates = await suspect_view.candidates(await views_of(request), expectation_id)
    return await _run(actor, request, lambda app: app.refine_expectation(
        expectation_id, by=actor.subject, text=body.text, terms=body.terms.model_dump(),
        reason=body.reason, expected_version=body.expected_version, candidates=candidates,
    ))  # fmt: skip


async def withdraw_expectation(actor: Actor, body: WithdrawExpectation, request: Request) -> Reply:
    expectation_id = _id(request, "expectation_id")
    return await _run(actor, request, lambda app: app.withdraw_expectation(
        expectation_id, by=actor.subject, reason=body.reason,
        expected_version=body.expected_version,
    ))  # fmt: skip


async def merge_expectations(actor: Actor, body: MergeExpectations, request: Request) -> Reply:
    expectation_id = _id(request, "expectation_id")
    return await _run(actor, request, lambda app: app.merge_expectations(
        expectation_id, body.merged_expectation_id, by=actor.subject, reason=body.reason,
        expected_version=body.expected_version,
        merged_expected_version=body.merged_expected_version,
    ))  # fmt: skip


async def give_provider_advice(actor: Actor, body: GiveProviderAdvice, request: Request) -> Reply:
    expectation_id = _id(request, "expectation_id")
    return await _run(actor, request, lambda app: app.give_provider_advice(
        expectation_id, by=actor.subject, advice=body.advice, importance=body.importance,
        feasibility=body.feasibility, expected_version=body.expected_version,
    ))  # fmt: skip


async def commit_to_expectation(actor: Actor, body: CommitToExpectation, request: Request) -> Reply:
    expectation_id = _id(request, "expectation_id")
    return await _run(actor, request, lambda app: app.commit_to_expectation(
        expectation_id, by=actor.subject, note=body.note, expected_version=body.expected_version,
    ))  # fmt: skip


async def decline_expectation(actor: Actor, body: DeclineExpectation, request: Request) -> Reply:
    expectation_id = _id(request, "expectation_id")
    return await _run(actor, request, lambda app: app.decline_expectation(
        expectation_id, by=actor.subject, reason=body.reason,
        expected_version=body.expected_version,
    ))  # fmt: skip


# Obligations


async def propose_obligation(actor: Actor, body: ProposeObligation, request: Request) -> Reply:
    contract_id = _id(request, "contract_id")
    return await _run(actor, request, lambda app: app.propose_obligation(
        contract_id, by=actor.subject, what=body.what, needed_from=body.needed_from,
        due_on=body.due_on, depends_on=body.depends_on,
    ))  # fmt: skip


async def accept_obligation(actor: Actor, body: AcceptObligation, request: Request) -> Reply:
    obligation_id = _id(request, "obligation_id")
    return await _run(actor, request, lambda app: app.accept_obligation(
        obligation_id, by=actor.subject, expected_version=body.expected_version,
    ))  # fmt: skip


async def decline_obligation(actor: Actor, body: DeclineObligation, request: Request) -> Reply:
    obligation_id = _id(request, "obligation_id")
    return await _run(actor, request, lambda app: app.decline_obligation(
        obligation_id, by=actor.subject, reason=body.reason,
        expected_version=body.expected_version,
    ))  # fmt: skip


async def fulfil_obligation(actor: Actor, body: FulfilObligation, request: Request) -> Reply:
    obligation_id = _id(request, "obligation_id")
    return await _run(actor, request, lambda app: app.fulfil_obligation(
        obligation_id, by=actor.subject, note=body.note, expected_version=body.expected_version,
    ))  # fmt: skip


async def breach_obligation(actor: Actor, body: BreachObligation, request: Request) -> Reply:
    obligation_id = _id(request, "obligation_id")
    return await _run(actor, request, lambda app: app.breach_obligation(
        obligation_id, by=actor.subject, what_happened=body.what_happened,
        impact=body.impact, expected_version=body.expected_version,
    ))  # fmt: skip


# Risks and lessons


async def disclose_risk(actor: Actor, body: DiscloseRisk, request: Request) -> Reply:
    contract_id = _id(request, "contract_id")
    return await _run(actor, request, lambda app: app.disclose_risk(
        contract_id, by=actor.subject, kind=body.kind, title=body.title,
        description=body.description, likelihood=body.likelihood, impact=body.impact,
        affected_expectations=body.affected_expectations, prepare_for=body.prepare_for,
    ))  # fmt: skip


async def acknowledge_risk(actor: Actor, body: AcknowledgeRisk, request: Request) -> Reply:
    risk_id = _id(request, "risk_id")
    return await _run(actor, request, lambda app: app.acknowledge_risk(
        risk_id, by=actor.subject, expected_version=body.expected_version,
    ))  # fmt: skip


async def record_remedial_action(
    actor: Actor, body: RecordRemedialAction, request: Request
) -> Reply:
    risk_id = _id(request, "risk_id")
    return await _run(actor, request, lambda app: app.record_remedial_action(
        risk_id, by=actor.subject, action=body.action, expected_version=body.expected_version,
    ))  # fmt: skip


async def resolve_risk(actor: Actor, body: ResolveRisk, request: Request) -> Reply:
    risk_id = _id(request, "risk_id")
    return await _run(actor, request, lambda app: app.resolve_risk(
        risk_id, by=actor.subject, resolution=body.resolution,
        expected_version=body.expected_version,
    ))  # fmt: skip


async def record_lesson_learned(actor: Actor, body: RecordLessonLearned, request: Request) -> Reply:
    contract_id = _id(request, "contract_id")
    return await _run(actor, request, lambda app: app.record_lesson_learned(
        contract_id, by=actor.subject, lesson=body.lesson, risk_ids=body.risk_ids,
        expectation_ids=body.expectation_ids,
    ))  # fmt: skip


async def record_assumption(actor: Actor, body: RecordAssumption, request: Request) -> Reply:
    contract_id = _id(request, "contract_id")
    return await _run(actor, request, lambda app: app.record_assumption(
        contract_id, by=actor.subject, text=body.text, why=body.why,
    ))  # fmt: skip


async def plan_preventive_action(
    actor: Actor, body: PlanPreventiveAction, request: Request
) -> Reply:
    lesson_id = _id(request, "lesson_id")
    return await _run(actor, request, lambda app: app.plan_preventive_action(
        lesson_id, by=actor.subject, action=body.action, owner=body.owner, due_on=body.due_on,
        expected_version=body.expected_version,
    ))  # fmt: skip


# Delivery and gaps


async def record_measurement(actor: Actor, body: RecordMeasurement, request: Request) -> Reply:
    expectation_id = _id(request, "expectation_id")
    return await _run(actor, request, lambda app: app.record_measurement(
        expectation_id, by=actor.subject, period_start=body.period_start,
        period_end=body.period_end, value=body.value, source=body.source,
        expected_version=body.expected_version,
    ))  # fmt: skip


async def acknowledge_gap(actor: Actor, body: AcknowledgeGap, request: Request) -> Reply:
    expectation_id = _id(request, "expectation_id")
    return await _run(actor, request, lambda app: app.acknowledge_gap(
        expectation_id, body.measurement_id, by=actor.subject, cause=body.cause,
        expected_version=body.expected_version,
    ))  # fmt: skip


async def agree_recovery_plan(actor: Actor, body: AgreeRecoveryPlan, request: Request) -> Reply:
    expectation_id, gap_id = _id(request, "expectation_id"), _id(request, "gap_id")
    steps = [PlannedStep(action=s.action, owner=s.owner, due_on=s.due_on) for s in body.steps]
    return await _run(actor, request, lambda app: app.agree_recovery_plan(
        expectation_id, gap_id, by=actor.subject, steps=steps, agreed_with=body.agreed_with,
        revised_target=body.revised_target, revised_target_upper=body.revised_target_upper,
        expected_version=body.expected_version,
    ))  # fmt: skip


async def complete_recovery_step(
    actor: Actor, body: CompleteRecoveryStep, request: Request
) -> Reply:
    expectation_id, gap_id = _id(request, "expectation_id"), _id(request, "gap_id")
    return await _run(actor, request, lambda app: app.complete_recovery_step(
        expectation_id, gap_id, body.step, by=actor.subject, note=body.note,
        expected_version=body.expected_version,
    ))  # fmt: skip


# Suspect links


async def _suspects_caught_up(request: Request) -> None:
    """Wait until the suspect links' view has applied every event stored before this request
    (SUSPECT_LINKS_CATCHING_UP if it has not within the wait): a flag is never missed."""
    if (stored := await _view_behind(request, suspect_view.applied_position)) is not None:
        raise SuspectLinksCatchingUp(stored)


async def _view_behind(request: Request, applied: Callable[[Pool], Awaitable[int]]) -> int | None:
    """Wait until a view of the service has applied its log up to what was stored before this
    request; None once it has, else that position, which it has not reached within the wait.
    Each look hurries the views: the event stored last may have reached one as it looked."""
    runtime = _runtime(request)
    stored = await runtime.executor.run(runtime.app.recorder.max_notification_id) or 0
    deadline = time.monotonic() + request.app.state.view_wait
    while await applied(await views_of(request)) < stored:
        if time.monotonic() >= deadline:
            return stored
        await asyncio.sleep(0.02)
    return None


async def review_suspect(actor: Actor, body: ReviewSuspect, request: Request) -> Reply:
    item_id = _id(request, "item_id")
    await _suspects_caught_up(request)
    flags = await suspect_view.open_flags(await views_of(request), item_id)
    return await _run(actor, request, lambda app: app.review_suspect(
        item_id, by=actor.subject, outcome=body.outcome, reason=body.reason, flags=flags,
    ))  # fmt: skip


# Baselines


async def _agreed_set(request: Request, contract_id: UUID) -> Listed:
    """What the service's view holds for the contract, once it has applied every event stored
    before this request (AGREED_SET_CATCHING_UP if it has not within the wait)."""
    if (stored := await _view_behind(request, agreed_set_view.applied_position)) is not None:
        raise AgreedSetCatchingUp(stored)
    return await agreed_set_view.listed(await views_of(request), contract_id)


async def propose_baseline(actor: Actor, body: ProposeBaseline, request: Request) -> Reply:
    contract_id = _id(request, "contract_id")
    listed = await _agreed_set(request, contract_id)
    return await _run(actor, request, lambda app: app.propose_baseline(
        contract_id, by=actor.subject, title=body.title, listed=listed,
    ))  # fmt: skip


async def sign_baseline(actor: Actor, body: SignBaseline, request: Request) -> Reply:
    baseline_id = _id(request, "baseline_id")
    state = request.app.state
    now: datetime = state.clock()
    max_age: timedelta = state.signature_max_age
    return await _run(actor, request, lambda app: app.sign_baseline(
        baseline_id, by=actor.subject, meaning=body.meaning,
        authenticated_at=authenticated_at(actor.issued_at), now=now, max_age=max_age,
    ))  # fmt: skip


async def revoke_baseline(actor: Actor, body: RevokeBaseline, request: Request) -> Reply:
    baseline_id = _id(request, "baseline_id")
    return await _run(actor, request, lambda app: app.revoke_baseline(
        baseline_id, by=actor.subject, reason=body.reason,
    ))  # fmt: skip


async def show_baseline(actor: Actor, request: Request) -> dict[str, Any]:
    """The baseline as the service holds it, for its contract's participants."""
    runtime = _runtime(request)
    baseline = await runtime.executor.run(
        runtime.app.baseline_for, request.path_params["id"], actor.subject
    )
    return {
        "id": str(baseline.id),
        "version": baseline.version,
        "contract_id": str(baseline.contract_id),
        "title": baseline.title,
        "status": baseline.status.value,
        "complete": baseline.complete,
        "content": baseline.content,
        "content_hash": baseline.content_hash,
        "required_roles": [role.value for role in baseline.required_roles],
        "signatures": [
            {
                "signer": s.signer,
                "printed_name": s.printed_name,
                "role": s.role.value,
                "meaning": s.meaning.value,
                "signed_at": s.signed_at.isoformat(),
                "authenticated_at": s.authenticated_at.isoformat(),
                "content_hash": s.content_hash,
            }
            for s in baseline.signatures
        ],
        "revocation_reason": baseline.revocation_reason,
    }


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


async def set_deadline_policy(actor: Actor, body: SetDeadlinePolicy, request: Request) -> Reply:
    contract_id = _id(request, "contract_id")
    return await _run(actor, request, lambda app: app.set_deadline_policy(
        contract_id, by=actor.subject, thresholds=body.thresholds,
        acknowledgement_window=body.acknowledgement_window,
    ))  # fmt: skip


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
        "decided_revision": expectation.decided_revision,
        "missing_for_measurable": expectation.missing_for_measurable(),
        "proposers": list(expectation.proposers),
    }


ROUTES: list[BaseRoute] = [
    route(elicitation.OPEN_CONTRACT, open_contract),
    route(elicitation.JOIN_CONTRACT, join_contract),
    route(elicitation.LEAVE_CONTRACT, leave_contract),
    route(elicitation.ASK_QUESTION, ask_question),
    route(elicitation.ANSWER_QUESTION, answer_question),
    route(elicitation.PROPOSE_EXPECTATION, propose_expectation),
    route(elicitation.REFINE_EXPECTATION, refine_expectation),
    route(elicitation.WITHDRAW_EXPECTATION, withdraw_expectation),
    route(elicitation.MERGE_EXPECTATIONS, merge_expectations),
    route(elicitation.GIVE_PROVIDER_ADVICE, give_provider_advice),
    route(elicitation.COMMIT_TO_EXPECTATION, commit_to_expectation),
    route(elicitation.DECLINE_EXPECTATION, decline_expectation),
    route(elicitation.PROPOSE_OBLIGATION, propose_obligation),
    route(elicitation.ACCEPT_OBLIGATION, accept_obligation),
    route(elicitation.DECLINE_OBLIGATION, decline_obligation),
    route(elicitation.FULFIL_OBLIGATION, fulfil_obligation),
    route(elicitation.BREACH_OBLIGATION, breach_obligation),
    route(elicitation.DISCLOSE_RISK, disclose_risk),
    route(elicitation.ACKNOWLEDGE_RISK, acknowledge_risk),
    route(elicitation.RECORD_REMEDIAL_ACTION, record_remedial_action),
    route(elicitation.RESOLVE_RISK, resolve_risk),
    route(elicitation.RECORD_LESSON_LEARNED, record_lesson_learned),
    route(elicitation.PLAN_PREVENTIVE_ACTION, plan_preventive_action),
    route(elicitation.RECORD_MEASUREMENT, record_measurement),
    route(elicitation.ACKNOWLEDGE_GAP, acknowledge_gap),
    route(elicitation.AGREE_RECOVERY_PLAN, agree_recovery_plan),
    route(elicitation.COMPLETE_RECOVERY_STEP, complete_recovery_step),
    route(baselines.PROPOSE_BASELINE, propose_baseline),
    route(baselines.SIGN_BASELINE, sign_baseline),
    route(baselines.REVOKE_BASELINE, revoke_baseline),
    route(suspects.REVIEW_SUSPECT, review_suspect),
    route(deadlines.SET_DEADLINE_POLICY, set_deadline_policy),
    route(assumptions.RECORD_ASSUMPTION, record_assumption),
    query("/contracts/{id}", show_contract),
    query("/baselines/{id}", show_baseline),
    query("/expectations/{id}", show_expectation),
]


AGREED_SET_VIEW = View(
    "agreed-set", agreed_set_view.TOPICS, agreed_set_view.SCHEMA, agreed_set_view.apply,
    agreed_set_view.BATCHING,
)  # fmt: skip

SUSPECT_VIEW = View(
    "suspect-links", suspect_view.TOPICS, suspect_view.SCHEMA, suspect_view.apply,
    suspect_view.BATCHING,
)  # fmt: skip


def now_utc() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings, bus: Bus, *, clock: Callable[[], datetime] = now_utc
) -> Starlette:
    """The service's app; `clock` tells the instant a signature is made and a deadline
    warning falls due (tests move it)."""
    # Deadline warnings fall due by the same clock.
    timers = DeadlineView(policy_defaults(settings), clock)
    app = service_app(
        SERVICE, Elicitation, settings, bus, ROUTES,
        views=[AGREED_SET_VIEW, SUSPECT_VIEW, timers.view], workers=[timers.worker],
    )  # fmt: skip
    app.state.administrators = settings.administrators
    app.state.clock = clock
    app.state.signature_max_age = timedelta(seconds=settings.signature_max_age_seconds)
    return app
