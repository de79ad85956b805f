"""The projector applying a whole batch together (its big groups of plain inserts loaded with
COPY, or not) makes the same read models as applying each event on its own, and a batch with an
event that cannot be applied still dead-letters it alone."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from uuid import uuid4

import asyncpg
import pytest

from services.gateway.projections import dispatch
from services.gateway.projections.schema import create_tables
from services.gateway.projector import PROJECTION
from shared.bus import Message
from shared.bus_kafka import KafkaConsumer
from shared.database import create_pool
from shared.envelope import Envelope, to_kafka
from shared.projection import BatchResult, ProjectionRunner
from shared.schemas.registry import registry, topic_for
from tests.integration.gateway.projecting import every_table
from tests.integration.gateway.story import (
    AMIRA,
    Story,
    elicitation_story,
    ranking_story,
    whole_story,
)
from tests.support.statements import noting_pool
from tests.support.waiting import eventually

# The audit log's arrival counter: a batch may number its own rows in any order.
ARRIVAL = {"audit_log": ("position",)}


@pytest.fixture
async def schemas(database_url: str) -> AsyncIterator[dict[str, asyncpg.Pool]]:
    """Read-model schemas: applied together, together with COPY, and event by event."""
    pools = {}
    for way in ("together", "copied", "one_by_one"):
        pool = await create_pool(database_url, f"readmodel_test_{way}_{uuid4().hex[:8]}")
        async with pool.acquire() as conn:
            await create_tables(conn)
        pools[way] = pool
    yield pools
    for pool in pools.values():
        schema = await pool.fetchval("SELECT current_schema()")
        await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()


def runner(pool: asyncpg.Pool, way: str, bootstrap: str) -> ProjectionRunner:
    # Messages are handed to apply_batch directly: the broker's consumer is never started.
    consumer = KafkaConsumer(bootstrap, [], "unused", "tests")
    return ProjectionRunner(
        PROJECTION, consumer, pool, dispatch.apply,
        batching=None if way == "one_by_one" else dispatch.BATCHING,
        # Any group of two rows or more of a plain insert copied, however small the story.
        copy_from=2 if way == "copied" else 0,
    )  # fmt: skip


def messages(service: str, envelopes: Sequence[Envelope], first: int = 0) -> list[Message]:
    topic = topic_for(service)
    return [Message(topic, 0, first + n, *_bytes(e)) for n, e in enumerate(envelopes)]


def _bytes(envelope: Envelope) -> tuple[bytes, bytes, tuple[tuple[str, bytes], ...]]:
    key, value, headers = to_kafka(envelope)
    return key, value, tuple(headers)


async def apply_both_ways(
    schemas: dict[str, asyncpg.Pool], batches: Sequence[Sequence[Message]], bootstrap: str
) -> dict[str, list[BatchResult]]:
    results: dict[str, list[BatchResult]] = {}
    for way, pool in schemas.items():
        projection = runner(pool, way, bootstrap)
        await projection.create_tables()
        results[way] = [await projection.apply_batch(batch) for batch in batches]
        await projection.consumer.stop()
    return results


async def test_a_batch_applied_together_makes_the_rows_one_by_one_makes(
    schemas: dict[str, asyncpg.Pool], caplog: pytest.LogCaptureFixture, kafka_bootstrap: str
) -> None:
    caplog.set_level(logging.INFO, "shared.projection")
    # Two contracts, their streams interleaved; the second's ranking before its expectations.
    first, second = whole_story(), ranking_story(elicitation_story(Story()))
    pairs = zip(first.elicitation, second.elicitation, strict=False)
    elicitation = [e for pair in pairs for e in pair]
    elicitation += first.elicitation[len(second.elicitation) :]
    elicitation += second.elicitation[len(first.elicitation) :]
    batches = [
        messages("ranking", second.ranking),
        # Split mid-stream: the second batch reads what the first one wrote.
        messages("elicitation", elicitation[:40]),
        messages("elicitation", elicitation[40:], first=40),
        messages("ranking", first.ranking, first=len(second.ranking)),
    ]
    results = await apply_both_ways(schemas, batches, kafka_bootstrap)

    applied = {way: [r.applied for r in found] for way, found in results.items()}
    assert applied["together"] == applied["copied"] == applied["one_by_one"]
    assert sum(r.dead_lettered for r in [*results["together"], *results["copied"]]) == 0
    assert "one by one" not in caplog.text  # every batch went together
    together, copied, one_by_one = [
        await every_table(pool, await pool.fetchval("SELECT current_schema()"), leave_out=ARRIVAL)
        for pool in (schemas["together"], schemas["copied"], schemas["one_by_one"])
    ]
    assert all(together[t] for t in ("expectation_versions", "corporate_priorities", "gaps"))
    for table, rows in one_by_one.items():
        assert together[table] == rows, f"{table} differs when applied together"
        assert copied[table] == rows, f"{table} differs when applied together with COPY"


async def test_an_event_that_cannot_be_applied_is_dead_lettered_alone_from_a_batch(
    schemas: dict[str, asyncpg.Pool], caplog: pytest.LogCaptureFixture, kafka_bootstrap: str
) -> None:
    caplog.set_level(logging.INFO, "shared.projection")
    story = elicitation_story(Story())
    broken = Message(
        topic_for("elicitation"), 0, 5, b"k", b"not json", (("ce_specversion", b"1.0"),)
    )
    batch = [
        *messages("elicitation", story.elicitation[:5]),
        broken,
        *messages("elicitation", story.elicitation[5:], first=6),
    ]
    results = await apply_both_ways(schemas, [batch], kafka_bootstrap)

    assert "batch applied one by one: undecodable message" in caplog.text
    for way in ("together", "copied", "one_by_one"):
        (result,) = results[way]
        assert result.dead_lettered == 1 and result.applied == len(story.elicitation), way
        dead = await schemas[way].fetch('SELECT "offset" FROM dead_letters')
        assert [r["offset"] for r in dead] == [5], way
    counts = [await pool.fetchval("SELECT count(*) FROM audit_log") for pool in schemas.values()]
    assert counts == [len(story.elicitation)] * 3


async def test_a_copied_log_row_that_conflicts_sends_its_batch_one_by_one(
    schemas: dict[str, asyncpg.Pool], caplog: pytest.LogCaptureFixture, kafka_bootstrap: str
) -> None:
    """COPY cannot skip a row as the audit log's insert does (ON CONFLICT DO NOTHING): an
    event applied again after its id was forgotten fails the copied batch, which is then
    applied one by one, the row kept once and the event not dead-lettered."""
    caplog.set_level(logging.INFO, "shared.projection")
    pool = schemas["copied"]
    projection = runner(pool, "copied", kafka_bootstrap)
    await projection.create_tables()
    notices = notification_events(4)  # the gateway records them in the audit log only
    first = await projection.apply_batch(messages("notifications", notices))
    assert first.applied == 4 and "one by one" not in caplog.text
    # The applied ids forgotten (the runner's `remember` period over), the events come again.
    await pool.execute("DELETE FROM projection_applied_events")
    again = await projection.apply_batch(messages("notifications", notices, first=4))
    await projection.consumer.stop()

    assert "batch applied one by one: UniqueViolationError" in caplog.text
    assert (again.applied, again.dead_lettered) == (4, 0)
    logged = await pool.fetch("SELECT event_id FROM audit_log ORDER BY position")
    assert [r["event_id"] for r in logged] == [e.id for e in notices]


def notification_events(count: int) -> list[Envelope]:
    spec = registry.latest("notifications", "NotificationQueued")
    assert spec.example is not None
    story = Story()
    return [
        story.event("notifications", spec.name, str(uuid4()), AMIRA, **dict(spec.example))
        for _ in range(count)
    ]


async def test_a_batch_keeps_its_books_in_two_statements_and_a_redelivery_changes_nothing(
    database_url: str, schemas: dict[str, asyncpg.Pool], kafka_bootstrap: str
) -> None:
    """Besides BEGIN, COMMIT and the read models' own writes, a batch costs one statement to
    lock its offsets and claim its events, and one to store its offsets and NOTIFY."""
    schema = await schemas["together"].fetchval("SELECT current_schema()")
    stack = contextlib.AsyncExitStack()
    noting = noting_pool(database_url, f'"{schema}", public')
    logged, statements = await stack.enter_async_context(noting)
    projection = runner(logged, "together", kafka_bootstrap)
    projection.notify_channel = "accord_readmodel_test"
    await projection.create_tables()
    events = whole_story().elicitation
    story = messages("elicitation", events)
    listening = await asyncpg.connect(database_url)
    notified: list[str] = []
    await listening.add_listener(
        projection.notify_channel, lambda *args: notified.append(str(args[-1]))
    )
    try:
        statements.clear()
        first = await projection.apply_batch(story)
        books = [s for s in statements if "projection_" in s]
        assert len(books) == 2
        assert "FOR UPDATE" in books[0] and "projection_applied_events" in books[0]
        assert "projection_offsets" in books[1] and "pg_notify" in books[1]
        await eventually(lambda: notified == [PROJECTION])
        # Delivered again (a rebalance, a restart): skipped by its offsets, nothing applied.
        again = await projection.apply_batch(story)
        assert (first.applied, again.applied, again.duplicates) == (len(story), 0, len(story))
        # Republished at new offsets (a relay that crashed mid-batch): skipped by event id.
        republished = await projection.apply_batch(
            messages("elicitation", events[:3], first=len(story))
        )
        assert (republished.applied, republished.duplicates) == (0, 3)
        stored = await logged.fetchval(
            "SELECT next_offset FROM projection_offsets WHERE projection = $1", PROJECTION
        )
        assert stored == len(story) + 3
        await listening.execute("SELECT 1")  # a round trip: any NOTIFY of theirs is in
        assert notified == [PROJECTION]  # batches that applied nothing told nobody
    finally:
        await projection.consumer.stop()
        await stack.aclose()
        await listening.close()


async def test_an_expectation_proposed_again_is_dead_lettered_and_its_batch_goes_on(
    schemas: dict[str, asyncpg.Pool], kafka_bootstrap: str
) -> None:
    """A batch reads nothing for the expectations it proposes itself; one proposed again under
    another event id (stored already) is refused by its first version's row and dead-lettered
    alone, the rest of its batch applied."""
    projection = runner(schemas["together"], "together", kafka_bootstrap)
    await projection.create_tables()
    pool = schemas["together"]
    events = whole_story().elicitation
    proposal = next(e for e in events if e.type.endswith("ExpectationProposed.v1"))

    async def versions() -> int:
        count: int = await pool.fetchval(
            "SELECT count(*) FROM expectation_versions WHERE expectation_id = $1",
            proposal.data["expectation_id"],
        )
        return count

    try:
        first = await projection.apply_batch(messages("elicitation", events))
        before = await versions()
        again = replace(proposal, id=str(uuid4()))
        others = elicitation_story(Story()).elicitation
        batch = messages("elicitation", [again, *others], first=len(events))
        second = await projection.apply_batch(batch)
    finally:
        await projection.consumer.stop()
    assert first.dead_lettered == 0 and before > 0
    assert (second.dead_lettered, second.applied) == (1, len(others))
    assert await versions() == before
    dead = await pool.fetchval("SELECT ce_id FROM dead_letters WHERE projection = $1", PROJECTION)
    assert dead == again.id
