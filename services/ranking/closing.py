"""Closing a session, by hand or at its closing time: the provider's advice on each expectation
is published beside the ranking."""

from __future__ import annotations

import asyncpg

from services.ranking import contract_view
from services.ranking.application import Prioritizations
from services.ranking.domain import Prioritization
from shared.commands.result import CommandResult
from shared.runtime import ServiceRuntime


async def close_session(
    runtime: ServiceRuntime[Prioritizations],
    pool: asyncpg.Pool,
    session: Prioritization,
    closed_by: str,
    role: str,
    expected_version: int | None,
) -> CommandResult:
    advice = await contract_view.advice(pool, list(session.expectations))
    result: CommandResult = await runtime.execute(
        runtime.app.close_prioritization, session.id, closed_by, advice, expected_version,
        actor_id=closed_by, actor_role=role,
    )  # fmt: skip
    return result
