"""A view nobody waits on lingers after a message comes, and applies what came meanwhile in
the same batch; one that does not linger applies each message as it comes. A runner tells
whoever reads its view after each batch that applied something."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest

from shared.bus import Message
from shared.bus_memory import InProcessBus
from shared.database import Connection, create_pool
from shared.envelope import Envelope
from shared.event_ids import event_id
from shared.projection import BatchResult, ProjectionRunner
from shared.schemas import registry
from shared.schemas.registry import topic_for
from tests.support import notes

TOPIC = topic_for(notes.SERVICE)


class Batches(ProjectionRunner):
    """Keeps the size of each batch it applied."""

    sizes: list[int]

    async def apply_batch(self, messages: Sequence[Message]) -> BatchResult:
        self.sizes.append(len(messages))
        return await super().apply_batch(messages)


async def written(conn: Connection, envelope: Envelope) -> None:
    await conn.execute("INSERT INTO notes_seen VALUES ($1)", envelope.subject)


def note() -> Envelope:
    spec, subject = registry.latest(notes.SERVICE, "NoteWritten"), uuid4()
    return Envelope(
        id=event_id(subject, 1), type=spec.ce_type, source=f"/accord/{notes.SERVICE}",
        subject=str(subject), time=datetime.now(UTC), key=str(uuid4()),
        data=spec.to_data({"contract_id": str(uuid4()), "text": "Kick-off notes"}), sequence=1,
    )  # fmt: skip


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, f"linger_{uuid4().hex[:8]}")
    await pool.execute("CREATE TABLE notes_seen (note_id text PRIMARY KEY)")
    yield pool
    schema = await pool.fetchval("SELECT current_schema()")
    await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await pool.close()


@pytest.mark.parametrize(("linger", "sizes"), [(0.5, [5]), (0.0, [1, 4])])
async def test_what_comes_while_a_view_lingers_is_applied_with_the_first_message(
    pool: asyncpg.Pool, linger: float, sizes: list[int]
) -> None:
    bus = InProcessBus()
    consumer = bus.consumer([TOPIC])
    runner = Batches("notes", consumer, pool, written, linger=linger)
    runner.sizes = []
    await runner.start()
    running = asyncio.create_task(runner.run())
    try:
        await bus.append(TOPIC, [note()])
        while consumer.lag():  # the runner took the first message
            await asyncio.sleep(0)
        await bus.append(TOPIC, [note() for _ in range(4)])
        if linger:  # nothing is applied before the linger ends
            assert await pool.fetchval("SELECT count(*) FROM notes_seen") == 0
        while runner.applied < 5:
            await asyncio.sleep(0.01)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert runner.sizes == sizes
    assert await pool.fetchval("SELECT count(*) FROM notes_seen") == 5


async def test_a_runner_tells_after_each_batch_that_applied_something(pool: asyncpg.Pool) -> None:
    told: list[int] = []
    bus = InProcessBus()
    runner = ProjectionRunner(
        "notes", bus.consumer([TOPIC]), pool, written, on_applied=lambda: told.append(1)
    )
    await runner.create_tables()
    await bus.append(TOPIC, [note(), note()])
    batch = bus.log(TOPIC)
    await runner.apply_batch(batch)
    assert told == [1]
    await runner.apply_batch(batch)  # the same messages again: nothing applied, nothing told
    assert told == [1]
