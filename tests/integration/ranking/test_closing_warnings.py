"""A prioritization's closing time is a dated promise too: its owner is warned at the
contract's thresholds, once each, and a session closed in time raises nothing after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from services.ranking import deadlines
from services.ranking.application import Prioritizations
from services.ranking.result import Method
from shared.bus_kafka import KafkaBus
from shared.database import create_pool
from shared.deadlines.timing import instant
from shared.deadlines.worker import raise_due
from shared.relay import envelope_of
from shared.runtime import build_runtime
from shared.settings import Settings


async def test_a_session_warns_its_owner_before_closing_and_stops_once_closed(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)
    publisher = KafkaBus(kafka_bootstrap).publisher("ranking")
    await publisher.start()
    runtime = await build_runtime("ranking", Prioritizations, settings, publisher)
    pool = await create_pool(database_url, "ranking")
    view = deadlines.WarningView(settings, lambda: datetime.now(UTC))
    await pool.execute(view.view.schema)
    seen = 0

    async def catch_up() -> list[str]:
        """Feed the view what the store holds, as its runner would; the warnings, by name."""
        nonlocal seen
        names = []
        for n in runtime.app.recorder.select_notifications(start=seen + 1, limit=10_000):
            envelope = envelope_of(runtime.app, "ranking", n)
            async with pool.acquire() as conn:
                await view.apply(conn, envelope)
            seen = n.id
            if envelope.data.get("item_id") == str(opened.id):
                names.append(f"{envelope.spec.name}:{envelope.data.get('threshold')}")
        return names

    async def raise_at(at: datetime) -> list[str]:
        await raise_due(runtime, pool, view.timers, view.still_open, at)
        return await catch_up()

    try:
        starts = datetime.now(UTC)
        closes = starts + timedelta(hours=10)
        ballot = [str(uuid4()), str(uuid4())]
        opened = await runtime.execute(
            runtime.app.open_prioritization, uuid4(), ballot, ["cfo"], Method.BORDA,
            "am", None, closes, actor_id="am", actor_role="provider_account_manager",
        )  # fmt: skip
        await catch_up()

        assert await raise_at(instant(starts, closes, 45)) == []
        assert await raise_at(instant(starts, closes, 51)) == ["DeadlineApproaching:50"]
        assert await raise_at(instant(starts, closes, 52)) == []
        assert await raise_at(instant(starts, closes, 76)) == ["DeadlineApproaching:75"]
        await runtime.execute(
            runtime.app.cast_vote, opened.id, "cfo", {"ranking": ballot},
            actor_id="cfo", actor_role="client_decision_maker",
        )  # fmt: skip
        session = await runtime.executor.run(runtime.app.session, opened.id)
        await runtime.execute(
            runtime.app.close_prioritization, opened.id, "am", {}, session.version,
            actor_id="am", actor_role="provider_account_manager",
        )  # fmt: skip
        await catch_up()
        assert await raise_at(closes + timedelta(minutes=1)) == []
    finally:
        await pool.close()
        await runtime.stop()
