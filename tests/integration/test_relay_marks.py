"""After a restart on the in-process bus, a relay publishes again from the last mark before its
consumers, on real PostgreSQL: every message keeps the offset it had, and what no consumer
needs is not published again. With marks off it publishes from the start, as before."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import uuid4

import pytest

from shared.bus import Partition
from shared.bus_memory import InProcessBus, InProcessConsumer
from shared.runtime import ServiceRuntime, build_runtime
from shared.settings import Settings
from tests.integration.services_in_one import own_database
from tests.support.notes import Notes

TOPIC = "accord.testkit.v1"


async def resumed_at(bus: InProcessBus, offset: int) -> InProcessConsumer:
    """A consumer whose read model stored `offset` as where to resume."""
    consumer = bus.consumer([TOPIC])

    async def stored(partitions: Sequence[Partition]) -> dict[Partition, int]:
        return {p: offset for p in partitions}

    await consumer.start(stored)
    return consumer


async def write(runtime: ServiceRuntime[Notes], notes: int) -> None:
    for n in range(notes):
        await runtime.execute(
            runtime.app.write, uuid4(), f"note {n}", actor_id="alice", actor_role="lead"
        )


async def drain(runtime: ServiceRuntime[Notes]) -> None:
    while await runtime.relay.publish_next_batch():
        pass


def ids(bus: InProcessBus) -> dict[int, str]:
    return {m.offset: m.decoded.id for m in bus.log(TOPIC) if m.decoded is not None}


@pytest.mark.parametrize("every", [10, 0])
async def test_a_restarted_relay_starts_at_a_mark_before_every_consumer(
    database_url: str, every: int
) -> None:
    settings = Settings(
        database_url=await own_database(database_url), relay_batch_size=7, relay_mark_every=every
    )
    first = InProcessBus(seals=True)
    reader = await resumed_at(first, 0)
    first.seal()
    runtime = await build_runtime("testkit", Notes, settings, first.publisher())
    await write(runtime, 40)
    await drain(runtime)
    before = ids(first)
    assert sorted(before) == list(range(40))
    await reader.commit({Partition(TOPIC, 0): 25})  # applied a part, then stopped
    await runtime.stop()

    second = InProcessBus(seals=True)
    reader, ahead = await resumed_at(second, 25), await resumed_at(second, 31)
    runtime = await build_runtime("testkit", Notes, settings, second.publisher())
    if every:
        # Where every consumer resumes is known once the bus is sealed: till then nothing goes.
        publishing = asyncio.create_task(runtime.relay.publish_next_batch())
        for _ in range(20):
            await asyncio.sleep(0)
        assert not publishing.done() and second.end(TOPIC) == 0
        second.seal()
        await publishing
    else:
        second.seal()
    await drain(runtime)
    again = ids(second)
    start = min(again)
    if every:
        assert 0 < start <= 25, start  # from a mark before the slowest consumer
    else:
        assert start == 0
    assert again == {o: before[o] for o in range(start, 40)}
    await write(runtime, 5)
    await drain(runtime)
    batch = await reader.fetch(timeout=0, max_records=100)
    assert [m.offset for m in batch] == list(range(25, 45))
    assert [m.decoded.id for m in batch[:15] if m.decoded] == [before[o] for o in range(25, 40)]
    assert len(await ahead.fetch(timeout=0, max_records=100)) == 14
    await runtime.stop()
