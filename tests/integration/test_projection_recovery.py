"""A projection runner whose fetch fails goes back to the offsets stored with its read model
and goes on, rather than stopping for good: on accord dev's in-process bus, a position the bus
no longer holds (it drops what was committed) is such a failure."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest

from shared.bus import Partition
from shared.bus_memory import InProcessBus
from shared.database import Connection, create_pool
from shared.envelope import Envelope
from shared.projection import ProjectionRunner
from shared.schemas import registry
from tests.support.waiting import eventually

TOPIC = "accord.notifications.v1"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, f"recovery_{uuid4().hex[:8]}")
    await pool.execute("CREATE TABLE seen (event_id text PRIMARY KEY, times int NOT NULL)")
    yield pool
    await pool.execute("DROP SCHEMA " + await pool.fetchval("SELECT current_schema()") + " CASCADE")
    await pool.close()


async def count(conn: Connection, envelope: Envelope) -> None:
    """Not idempotent on its own: an event applied twice would show."""
    await conn.execute(
        "INSERT INTO seen VALUES ($1, 1) ON CONFLICT (event_id) DO UPDATE"
        " SET times = seen.times + 1",
        envelope.id,
    )


def notices(n: int) -> list[Envelope]:
    spec = registry.latest("notifications", "NotificationQueued")
    assert spec.example is not None
    return [
        Envelope(
            id=str(uuid4()), type=spec.ce_type, source="/accord/notifications",
            subject=str(uuid4()), time=datetime(2027, 1, 1, tzinfo=UTC), key="c",
            data=spec.to_data(spec.example), sequence=1,
        )
        for _ in range(n)
    ]  # fmt: skip


async def test_a_fetch_that_fails_rewinds_to_the_stored_offsets_and_goes_on(
    pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "shared.projection")
    bus = InProcessBus(forget_after=1)
    consumer = bus.consumer([TOPIC])
    runner = ProjectionRunner("recovery", consumer, pool, count, batch_size=10)
    await runner.start()
    bus.seal()
    running = asyncio.create_task(runner.run())
    try:
        first = notices(3)
        await bus.publisher().publish(TOPIC, first)

        async def applied(n: int) -> bool:
            return int(await pool.fetchval("SELECT count(*) FROM seen")) == n

        await eventually(lambda: applied(3))
        await eventually(lambda: bus.log(TOPIC) == [])  # committed, dropped
        # The consumer sent back to where the bus holds nothing any more (a bug would do it).
        await consumer.seek({Partition(TOPIC, 0): 0})
        await eventually(lambda: runner.last_error.startswith("LookupError"))
        await bus.publisher().publish(TOPIC, notices(2))
        await eventually(lambda: applied(5))
        await eventually(lambda: runner.last_error == "")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert "batch failed, retrying: accord.notifications.v1: offset 0 was dropped" in caplog.text
    assert await pool.fetchval("SELECT max(times) FROM seen") == 1  # nothing applied twice
