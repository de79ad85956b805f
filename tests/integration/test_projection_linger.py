"""On the real broker: a view nobody waits on lingers after a message comes, and applies what
came meanwhile in the same batch; one that does not linger applies the first message as it
comes. A rebalance while it lingers hands it nothing twice. A runner tells whoever reads its
view after each batch that applied something, and not after a batch it had applied already."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from uuid import uuid4

import asyncpg
import pytest

from shared.bus import Message, Partition
from shared.bus_kafka import KafkaConsumer, KafkaPublisher
from shared.database import Connection, create_pool
from shared.envelope import Envelope
from shared.projection import BatchResult, ProjectionRunner
from shared.schemas.registry import topic_for
from tests.integration.kafka_tools import end_offsets, read_topic
from tests.support import notes
from tests.support.notes import written_on as note

LINGER = 2.0


class Batches(ProjectionRunner):
    """Keeps the size of each batch it applied."""

    sizes: list[int]

    async def apply_batch(self, messages: Sequence[Message]) -> BatchResult:
        self.sizes.append(len(messages))
        return await super().apply_batch(messages)


class Watched(KafkaConsumer):
    """Says when a fetch first handed the runner something."""

    took: asyncio.Event

    async def fetch(self, timeout: float, max_records: int) -> list[Message]:
        fetched = await super().fetch(timeout, max_records)
        if fetched:
            self.took.set()
        return fetched


async def written(conn: Connection, envelope: Envelope) -> None:
    await conn.execute("INSERT INTO notes_seen VALUES ($1)", envelope.subject)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, f"linger_{uuid4().hex[:8]}")
    await pool.execute("CREATE TABLE notes_seen (note_id text PRIMARY KEY)")
    yield pool
    schema = await pool.fetchval("SELECT current_schema()")
    await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await pool.close()


@pytest.fixture
async def publisher(kafka_bootstrap: str) -> AsyncIterator[KafkaPublisher]:
    publisher = KafkaPublisher(kafka_bootstrap, "linger-test")
    await publisher.start()
    yield publisher
    await publisher.stop()


@pytest.mark.parametrize(
    ("linger", "rebalanced"),
    [(LINGER, False), (LINGER, True), (0.0, False)],
    ids=["lingering", "rebalanced-while-lingering", "at-once"],
)
async def test_what_comes_while_a_view_lingers_is_applied_with_the_first_message(
    pool: asyncpg.Pool,
    publisher: KafkaPublisher,
    kafka_bootstrap: str,
    linger: float,
    rebalanced: bool,
) -> None:
    # A topic of the test's own: what the test service's other tests publish (at any time)
    # would join the batches counted here.
    key, topic = str(uuid4()), f"{topic_for(notes.SERVICE)}.linger-{uuid4().hex[:8]}"
    await publisher.publish(topic, [note(key)])  # creates the topic; the runner starts after it
    consumer = Watched(kafka_bootstrap, [topic], f"linger-{uuid4().hex[:8]}", "linger-test")
    consumer.took = asyncio.Event()
    told: list[int] = []
    runner = Batches(
        "notes", consumer, pool, written, linger=linger, on_applied=lambda _: told.append(1)
    )
    runner.sizes = []
    await runner.create_tables()
    ends = await end_offsets(kafka_bootstrap, topic, created=True)
    assert sum(ends.values()) == 1, ends  # the runner starts past the message that made the topic
    await pool.executemany(
        "INSERT INTO projection_offsets VALUES ('notes', $1, $2, $3)",
        [(topic, p, end) for p, end in ends.items()],
    )
    await runner.start()
    running = asyncio.create_task(runner.run())
    try:
        await publisher.publish(topic, [note(key)])
        async with asyncio.timeout(60):
            await consumer.took.wait()  # the runner has the first message
            if rebalanced:  # as a new assignment does: back to the offsets stored
                assigned = sorted(consumer.assignment())
                await consumer.seek(await runner.stored_offsets(assigned))
            await publisher.publish(topic, [note(key) for _ in range(4)])
            if linger:  # nothing is applied before the linger ends
                assert await pool.fetchval("SELECT count(*) FROM notes_seen") == 0
            while runner.applied < 5:
                await asyncio.sleep(0.05)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await consumer.stop()

    if linger:
        assert runner.sizes == [5]
    else:
        assert runner.sizes[0] == 1 and sum(runner.sizes) == 5
    assert await pool.fetchval("SELECT count(*) FROM notes_seen") == 5
    assert len(told) == len(runner.sizes)  # told once per batch

    # The same records again (a redelivery): applied already, so nobody is told.
    ours = await read_topic(kafka_bootstrap, topic, key=key)
    before = len(told)
    result = await runner.apply_batch(ours[1:])
    assert (result.applied, result.duplicates) == (0, 5)
    assert len(told) == before


async def test_a_hurried_view_applies_what_it_holds_at_once_and_answers_once_committed(
    pool: asyncpg.Pool, publisher: KafkaPublisher, kafka_bootstrap: str
) -> None:
    # A request that reads a view hurries it: a linger of an hour is cut short.
    key, topic = str(uuid4()), f"{topic_for(notes.SERVICE)}.hurry-{uuid4().hex[:8]}"
    await publisher.publish(topic, [note(key)])
    consumer = Watched(kafka_bootstrap, [topic], f"hurry-{uuid4().hex[:8]}", "linger-test")
    consumer.took = asyncio.Event()
    runner = Batches("notes", consumer, pool, written, linger=3600.0)
    runner.sizes = []
    await runner.create_tables()
    await resume_at_the_end(pool, kafka_bootstrap, topic)
    await runner.start()
    async with asyncio.timeout(30):
        await runner.hurry()  # holding nothing: answers at once
    running = asyncio.create_task(runner.run())
    sent = [note(key) for _ in range(3)]
    try:
        await publisher.publish(topic, sent[:2])
        async with asyncio.timeout(30):
            await consumer.took.wait()
            await runner.hurry()
        applied = runner.applied  # counted once the batch committed: before hurry answered
        assert applied > 0
        assert await pool.fetchval("SELECT count(*) FROM notes_seen") == applied
        await publisher.publish(topic, sent[2:])
        async with asyncio.timeout(30):
            while not await seen(pool, sent):
                await runner.hurry()
                await asyncio.sleep(0.01)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await consumer.stop()


async def resume_at_the_end(pool: asyncpg.Pool, kafka_bootstrap: str, topic: str) -> None:
    """The runner starts past the message that made the topic."""
    ends = await end_offsets(kafka_bootstrap, topic, created=True)
    await pool.executemany(
        "INSERT INTO projection_offsets VALUES ('notes', $1, $2, $3)",
        [(topic, p, end) for p, end in ends.items()],
    )


async def seen(pool: asyncpg.Pool, envelopes: Sequence[Envelope]) -> bool:
    subjects = [e.subject for e in envelopes]
    found = await pool.fetchval(
        "SELECT count(*) FROM notes_seen WHERE note_id = ANY($1::text[])", subjects
    )
    return bool(found == len(subjects))


class Gated(KafkaConsumer):
    """Fetches only while `gate` is set; `parked` says a fetch is waiting at the gate."""

    gate: asyncio.Event
    parked: asyncio.Event

    async def fetch(self, timeout: float, max_records: int) -> list[Message]:
        if not self.gate.is_set():
            self.parked.set()
            await self.gate.wait()
        return await super().fetch(timeout, max_records)


async def test_a_hurried_view_holds_what_was_published_before_it_was_asked_even_unfetched(
    pool: asyncpg.Pool, publisher: KafkaPublisher, kafka_bootstrap: str
) -> None:
    """What another service published before a request came is in the view the request reads,
    though the runner had not fetched it yet (the broker says where each partition ends)."""
    key, topic = str(uuid4()), f"{topic_for(notes.SERVICE)}.ends-{uuid4().hex[:8]}"
    await publisher.publish(topic, [note(key)])
    consumer = Gated(kafka_bootstrap, [topic], f"ends-{uuid4().hex[:8]}", "linger-test")
    consumer.gate, consumer.parked = asyncio.Event(), asyncio.Event()
    consumer.gate.set()
    runner = ProjectionRunner("notes", consumer, pool, written, linger=3600.0)
    await runner.create_tables()
    await resume_at_the_end(pool, kafka_bootstrap, topic)
    await runner.start()
    running = asyncio.create_task(runner.run())
    sent = [note(key) for _ in range(3)]
    try:
        async with asyncio.timeout(30):
            while not consumer.resumed:  # assigned, and sought to where it resumes
                await asyncio.sleep(0.05)
            consumer.gate.clear()
            await consumer.parked.wait()  # the runner's next fetch waits at the gate
            await publisher.publish(topic, sent)
            hurried = asyncio.create_task(runner.hurry())  # a request comes
            consumer.gate.set()
            await hurried
        assert await seen(pool, sent)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await consumer.stop()


async def test_where_partitions_end_is_told_after_an_ask_cut_short(
    publisher: KafkaPublisher, kafka_bootstrap: str
) -> None:
    """A request's wait may cut short the first ask, while the client that asks is still being
    made: the next ask is answered all the same, and the consumer stops cleanly."""
    key, topic = str(uuid4()), f"{topic_for(notes.SERVICE)}.ends-{uuid4().hex[:8]}"
    await publisher.publish(topic, [note(key), note(key)])
    consumer = KafkaConsumer(kafka_bootstrap, [topic], f"ends-{uuid4().hex[:8]}", "linger-test")

    async def from_the_start(partitions: Sequence[Partition]) -> dict[Partition, int]:
        return {p: 0 for p in partitions}

    await consumer.start(from_the_start)
    try:
        async with asyncio.timeout(30):
            while not consumer.resumed:
                await consumer.fetch(timeout=0.1, max_records=10)
            asking = asyncio.create_task(consumer.end_offsets())
            await asyncio.sleep(0)
            asking.cancel()
            await asyncio.gather(asking, return_exceptions=True)
            ends = await consumer.end_offsets()
        assert sum(ends.values()) == 2 and {p.topic for p in ends} == {topic}
    finally:
        await consumer.stop()
