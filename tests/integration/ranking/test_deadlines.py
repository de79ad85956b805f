"""A closing time nobody voted before: nothing to count, so the session stays closed to votes,
unpublished, and the scheduler stops looking at it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.ranking import contract_view, deadlines
from services.ranking.application import Prioritizations
from services.ranking.result import Method
from services.ranking.session_errors import SessionClosed
from shared.bus_memory import InProcessBus
from shared.database import create_pool
from shared.runtime import build_runtime
from shared.settings import Settings


async def test_a_session_nobody_voted_on_stays_unpublished_and_is_not_tried_again(
    database_url: str,
) -> None:
    settings = Settings(database_url=database_url)
    runtime = await build_runtime(
        "ranking", Prioritizations, settings, InProcessBus().publisher("ranking")
    )
    await runtime.start()
    pool = await create_pool(database_url, "ranking")
    try:
        await pool.execute(deadlines.SCHEMA + contract_view.SCHEMA)
        past = datetime.now(UTC) - timedelta(seconds=1)
        ballot = [str(uuid4()), str(uuid4())]
        opened = await runtime.execute(
            runtime.app.open_prioritization, uuid4(), ballot, ["cfo"], Method.BORDA,
            "am", None, past, actor_id="am", actor_role="provider_account_manager",
        )  # fmt: skip
        await pool.execute("INSERT INTO session_deadlines VALUES ($1, $2)", opened.id, past)

        await deadlines.close_one(runtime, pool, opened.id)

        assert not await pool.fetchval(
            "SELECT count(*) FROM session_deadlines WHERE session_id = $1", opened.id
        )
        session = await runtime.executor.run(runtime.app.session, opened.id)
        assert not session.closed and session.result is None
        with pytest.raises(SessionClosed):
            await runtime.execute(
                runtime.app.cast_vote, opened.id, "cfo", {"ranking": ballot},
                actor_id="cfo", actor_role="client_decision_maker",
            )  # fmt: skip
    finally:
        await pool.close()
        await runtime.stop()
