"""The ranking service's HTTP endpoints: one per command, JSON in and out, bearer-authenticated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from starlette.applications import Starlette
from starlette.requests import Request

from services.ranking import contract_view, deadlines
from services.ranking.application import Prioritizations
from services.ranking.closing import close_session
from services.ranking.session_errors import BallotCatchingUp, NotAllowed, NothingToPrioritize
from shared.auth import Actor
from shared.bus import Bus
from shared.commands import ranking
from shared.commands.ranking import CastVote, ClosePrioritization, OpenPrioritization, WithdrawVote
from shared.http import query, route
from shared.runtime import ServiceRuntime
from shared.service_app import (
    View,
    caught_up_views,
    found_in_views,
    runtime_of,
    service_app,
    views_pool,
)
from shared.settings import Settings

SERVICE = ranking.SERVICE
# Who may run a prioritization meeting: the provider's account manager or the client's people.
FACILITATORS = {"provider_account_manager", "client_decision_maker", "client_sponsor"}


async def _role(request: Request, actor: Actor, contract_id: str) -> str | None:
    """The caller's role on the contract as the service's views have it (found_in_views)."""
    return await found_in_views(
        request, lambda views: contract_view.role_of(views, contract_id, actor.subject)
    )


def _runtime(request: Request) -> ServiceRuntime[Prioritizations]:
    runtime: ServiceRuntime[Prioritizations] = runtime_of(request)
    return runtime


def _facilitator(role: str | None, actor: Actor) -> str:
    """The caller's role on the contract, refusing anyone who may not facilitate."""
    if role not in FACILITATORS:
        raise NotAllowed(actor.subject, "run a prioritization on this contract")
    return role or ""


async def open_prioritization(
    actor: Actor, body: OpenPrioritization, request: Request
) -> dict[str, Any]:
    """On the contract as elicitation had published it when the request came: an expectation
    made measurable just before is put to the vote (BALLOT_CATCHING_UP if the view does not
    get there within the wait)."""
    contract_id = str(request.path_params["contract_id"])
    views = await caught_up_views(request)
    if views is None:
        raise BallotCatchingUp(contract_id)
    # Caught up already: the role read there is the one the request came for.
    role = _facilitator(await contract_view.role_of(views, contract_id, actor.subject), actor)
    expectations, voters = await contract_view.ballot(views, contract_id)
    if not expectations and not voters:
        raise NothingToPrioritize(f"Nothing is known of contract {contract_id} yet.")
    runtime = _runtime(request)
    result = await runtime.execute(
        runtime.app.open_prioritization,
        UUID(contract_id), expectations, voters, body.method, actor.subject, body.dots,
        body.closes_at, actor_id=actor.subject, actor_role=role,
    )  # fmt: skip
    return result.as_dict()


async def cast_vote(actor: Actor, body: CastVote, request: Request) -> dict[str, Any]:
    session_id = request.path_params["prioritization_id"]
    runtime = _runtime(request)
    ranked = None if body.ranking is None else [str(e) for e in body.ranking]
    dots = None if body.dots is None else {str(d.expectation_id): d.dots for d in body.dots}
    result = await runtime.execute(
        runtime.app.cast_vote,
        session_id, actor.subject, {"ranking": ranked, "dots": dots},
        body.expected_version, actor_id=actor.subject, actor_role="client_decision_maker",
    )  # fmt: skip
    return result.as_dict()


async def withdraw_vote(actor: Actor, body: WithdrawVote, request: Request) -> dict[str, Any]:
    session_id = request.path_params["prioritization_id"]
    runtime = _runtime(request)
    result = await runtime.execute(
        runtime.app.withdraw_vote, session_id, actor.subject, body.expected_version,
        actor_id=actor.subject, actor_role="client_decision_maker",
    )  # fmt: skip
    return result.as_dict()


async def close_prioritization(
    actor: Actor, body: ClosePrioritization, request: Request
) -> dict[str, Any]:
    session_id = request.path_params["prioritization_id"]
    runtime = _runtime(request)
    # Loaded once: its contract names who may facilitate, its expectations the advice to read.
    session = await runtime.executor.run(runtime.app.session, session_id)
    role = _facilitator(await _role(request, actor, str(session.contract_id)), actor)
    result = await close_session(
        runtime, views_pool(request), session, actor.subject, role, body.expected_version
    )
    return result.as_dict()


async def show_prioritization(actor: Actor, request: Request) -> dict[str, Any]:
    """The session as its service holds it (the gateway serves the read model to people)."""
    session_id = request.path_params["prioritization_id"]
    runtime = _runtime(request)
    session = await runtime.executor.run(runtime.app.session, session_id)
    if await _role(request, actor, str(session.contract_id)) is None:
        raise NotAllowed(actor.subject, "see this prioritization")
    return {
        "id": str(session.id),
        "version": session.version,
        "contract_id": str(session.contract_id),
        "method": session.method.value,
        "expectations": session.expectations,
        "voters": session.voters,
        "voted": sorted(session.ballots),
        "closed": session.closed,
        "result": session.result,
    }


async def show_ballot(actor: Actor, request: Request) -> dict[str, Any]:
    """What a session opened now would put to the vote, and who could vote."""
    contract_id = str(request.path_params["contract_id"])
    if await _role(request, actor, contract_id) is None:
        raise NotAllowed(actor.subject, "see this contract")
    expectations, voters = await contract_view.ballot(views_pool(request), contract_id)
    return {"contract_id": contract_id, "expectations": expectations, "voters": voters}


ROUTES = [
    route(ranking.OPEN_PRIORITIZATION, open_prioritization),
    route(ranking.CAST_VOTE, cast_vote),
    route(ranking.WITHDRAW_VOTE, withdraw_vote),
    route(ranking.CLOSE_PRIORITIZATION, close_prioritization),
    query("/contracts/{contract_id}/ballot", show_ballot),
    query("/prioritizations/{prioritization_id}", show_prioritization),
]

CONTRACT_VIEW = View(
    "contract-view", contract_view.TOPICS, contract_view.SCHEMA, contract_view.apply,
    contract_view.BATCHING,
)  # fmt: skip


DEADLINES = View(
    "deadlines", deadlines.TOPICS, deadlines.SCHEMA, deadlines.apply,
    deadlines.BATCHING, for_scheduler=True,
)  # fmt: skip


def now_utc() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings, bus: Bus, *, clock: Callable[[], datetime] = now_utc
) -> Starlette:
    """The service's app; `clock` tells when a deadline warning falls due (tests move it)."""
    warnings = deadlines.WarningView(settings, clock)
    return service_app(
        SERVICE, Prioritizations, settings, bus, ROUTES,
        views=[CONTRACT_VIEW, DEADLINES, warnings.view],
        workers=[deadlines.close_when_due, warnings.worker],
    )  # fmt: skip
