"""The projection runner on real Kafka and PostgreSQL: once-only effects, dead letters."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from shared.bus import Message
from shared.bus_kafka import KafkaConsumer, KafkaPublisher
from shared.bus_memory import InProcessBus
from shared.database import Connection, create_pool
from shared.envelope import Envelope, to_kafka
from shared.projection import (
    AppliedTwice,
    Batching,
    BatchResult,
    ProjectionRunner,
    in_arrival_order,
)
from shared.runtime import build_runtime
from shared.settings import Settings
from tests.integration.kafka_tools import end_offsets
from tests.support.notes import Notes

TOPIC = "accord.testkit.v1"


async def count_versions(conn: Connection, envelope: Envelope) -> None:
    """A deliberately non-idempotent read model: applying twice would show."""
    await conn.execute(
        "INSERT INTO note_versions (note_id, versions, text) VALUES ($1, 1, $2)"
        " ON CONFLICT (note_id) DO UPDATE SET versions = note_versions.versions + 1,"
        " text = excluded.text",
        envelope.subject,
        envelope.data["text"],
    )


async def refuses_one_text(conn: Connection, envelope: Envelope) -> None:
    """count_versions, except for a note whose text is "explode": the handler fails on it."""
    if envelope.data.get("text") == "explode":
        raise ValueError("the handler cannot apply this event")
    await count_versions(conn, envelope)


@pytest.fixture
async def pool(database_url: str):
    schema = f"readmodel_{uuid4().hex[:8]}"
    pool = await create_pool(database_url, schema)
    await pool.execute(
        "CREATE TABLE note_versions (note_id text PRIMARY KEY, versions int, text text)"
    )
    yield pool
    await pool.close()


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str) -> Settings:
    return Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)


def runner(
    pool: asyncpg.Pool, bootstrap: str, handler=count_versions, group: str = ""
) -> ProjectionRunner:
    consumer = KafkaConsumer(bootstrap, [TOPIC], group or f"test-{uuid4().hex[:8]}", "test")
    return ProjectionRunner("notes", consumer, pool, handler, batch_size=50)


async def publish_notes(settings: Settings, texts: list[str]) -> str:
    """Write one note and rewrite it; relay it to Kafka; answer the note id."""
    runtime = await build_runtime(
        "testkit", Notes, settings, KafkaPublisher(settings.kafka_bootstrap, "t")
    )
    await runtime.relay.publisher.start()
    note_id = await runtime.execute(
        runtime.app.write, uuid4(), texts[0], actor_id="a", actor_role="r"
    )
    for text in texts[1:]:
        await runtime.execute(
            runtime.app.rewrite, note_id, text, "why", actor_id="a", actor_role="r"
        )
    while await runtime.relay.publish_next_batch():
        pass
    await runtime.stop()
    return str(note_id)


async def consume_until(projection: ProjectionRunner, done) -> None:
    """Run the projection until `done()` holds (or give up after 30 s)."""
    task = asyncio.create_task(projection.run())
    try:
        async with asyncio.timeout(30):
            while not await done():
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await projection.consumer.stop()


async def versions_of(pool: asyncpg.Pool, note_id: str) -> int | None:
    return await pool.fetchval("SELECT versions FROM note_versions WHERE note_id = $1", note_id)


async def test_the_same_message_delivered_twice_changes_the_read_model_once(pool, settings) -> None:
    note_id = await publish_notes(settings, ["v1", "v2", "v3"])
    ends = await _end_offsets(settings)
    await consume_until(
        await started(runner(pool, settings.kafka_bootstrap)), lambda: _caught_up(pool, ends)
    )
    assert await versions_of(pool, note_id) == 3
    # Kafka delivers everything again (a new consumer group from offset zero).
    again = runner(pool, settings.kafka_bootstrap)
    await again.consumer.start(_from_zero)
    redelivered: list[Message] = []
    async with asyncio.timeout(30):
        while len(redelivered) < sum(ends.values()):
            redelivered.extend(await again.consumer.fetch(0.5, 500))
    await again.consumer.stop()
    result = await again.apply_batch(redelivered)
    assert result.applied == 0 and result.duplicates == len(redelivered)
    assert await versions_of(pool, note_id) == 3


async def test_a_republished_event_at_a_new_offset_is_applied_once(pool, settings) -> None:
    note_id = await publish_notes(settings, ["v1"])
    await consume_until(
        await started(runner(pool, settings.kafka_bootstrap, group="notes-a")),
        lambda: _equals(versions_of(pool, note_id), 1),
    )
    # The relay crashed after publishing and before recording its position: it sends again.
    original = next(
        m for m in await _topic(settings) if dict(m.headers)["ce_subject"] == note_id.encode()
    )
    await _produce(settings, original.key, original.value, list(original.headers))
    ends = await _end_offsets(settings)
    await consume_until(
        await started(runner(pool, settings.kafka_bootstrap, group="notes-a")),
        lambda: _caught_up(pool, ends),
    )
    assert await versions_of(pool, note_id) == 1


async def test_applied_event_ids_are_forgotten_after_the_remembered_period(pool) -> None:
    projection = ProjectionRunner(
        "notes", KafkaConsumer("127.0.0.1:1", [TOPIC], "unused", "t"), pool, count_versions,
        remember=timedelta(days=30),
    )  # fmt: skip
    await projection.create_tables()
    other = "other-projection"
    await pool.executemany(
        "INSERT INTO projection_applied_events (projection, event_id, applied_at)"
        " VALUES ($1, $2, now() - $3::interval)",
        [
            *(("notes", f"old-{n}", timedelta(days=31)) for n in range(3)),
            ("notes", "recent", timedelta(days=29)),
            (other, "old-elsewhere", timedelta(days=31)),  # another projection's: not ours
        ],
    )
    assert await projection.forget_old_events() == 3
    kept = await pool.fetch("SELECT projection, event_id FROM projection_applied_events")
    assert sorted(tuple(r) for r in kept) == [("notes", "recent"), (other, "old-elsewhere")]
    assert await projection.forget_old_events() == 0


async def test_a_table_from_before_the_applied_time_gets_it(pool) -> None:
    await pool.execute(
        "CREATE TABLE projection_applied_events (projection text NOT NULL,"
        " event_id text NOT NULL, PRIMARY KEY (projection, event_id))"
    )
    await pool.execute("INSERT INTO projection_applied_events VALUES ('notes', 'e-1')")
    projection = ProjectionRunner(
        "notes", KafkaConsumer("127.0.0.1:1", [TOPIC], "unused", "t"), pool, count_versions
    )
    await projection.create_tables()
    row = await pool.fetchrow("SELECT event_id, applied_at FROM projection_applied_events")
    assert row["event_id"] == "e-1" and row["applied_at"] is not None
    assert await projection.forget_old_events() == 0  # counted from now: kept a while yet


async def test_a_crash_between_applying_and_committing_does_not_apply_twice(pool, settings) -> None:
    note_id = await publish_notes(settings, ["v1", "v2", "v3", "v4"])
    crashes = {"left": 1}

    async def crashing(conn: Connection, envelope: Envelope) -> None:
        await count_versions(conn, envelope)
        if envelope.subject == note_id and envelope.sequence == 3 and crashes["left"]:
            crashes["left"] -= 1
            raise ConnectionResetError("the process died before the commit")

    projection = runner(pool, settings.kafka_bootstrap, handler=crashing)
    await consume_until(await started(projection), lambda: _equals(versions_of(pool, note_id), 4))
    assert crashes["left"] == 0  # it did crash once, mid-batch
    assert await versions_of(pool, note_id) == 4
    text = await pool.fetchval("SELECT text FROM note_versions WHERE note_id = $1", note_id)
    assert text == "v4"


async def test_a_poison_message_goes_to_dead_letters_and_later_messages_still_apply(
    pool, settings
) -> None:
    await _produce(settings, b"k", b"\x00\x01 not a cloudevent", [])
    unknown = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"x-1"),
        ("ce_type", b"accord.testkit.Unheard.v1"),
        ("ce_source", b"/elsewhere"),
        ("ce_time", b"2026-11-23T09:00:00+00:00"),
    ]
    await _produce(settings, b"k", b"{}", unknown)
    note_id = await publish_notes(settings, ["after the poison"])

    exploding_id = await publish_notes(settings, ["explode"])
    ends = await _end_offsets(settings)
    projection = runner(pool, settings.kafka_bootstrap, handler=refuses_one_text)
    await consume_until(await started(projection), lambda: _caught_up(pool, ends))
    assert await versions_of(pool, note_id) == 1
    assert await versions_of(pool, exploding_id) is None
    letters = await pool.fetch("SELECT error_type, reason, value, ce_type FROM dead_letters")
    kinds = {row["error_type"] for row in letters}
    assert {"UndecodableMessage", "UnknownEventType", "ValueError"} <= kinds
    raw = next(r for r in letters if r["error_type"] == "UndecodableMessage")
    assert raw["value"] == b"\x00\x01 not a cloudevent"  # the raw message is kept
    assert any(r["ce_type"] == "accord.testkit.Unheard.v1" for r in letters)


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "one-by-one"])
async def test_whoever_listens_is_told_the_events_each_committed_batch_applied(
    pool, settings, batched: bool
) -> None:
    """The ids a batch hands `on_applied` are those now in the read model: not a dead letter's,
    not a redelivered event's (the gateway answers waiting commands by them in process)."""
    bus = InProcessBus()
    runtime = await build_runtime("testkit", Notes, settings, bus.publisher())

    told: list[BatchResult] = []
    projection = ProjectionRunner(
        "notes", bus.consumer([TOPIC]), pool, refuses_one_text, on_applied=told.append,
        batching=Batching(refuses_one_text, in_arrival_order) if batched else None,
    )  # fmt: skip
    await projection.start()
    notes = [
        await runtime.execute(runtime.app.write, uuid4(), text, actor_id="a", actor_role="r")
        for text in ("kept", "explode", "kept too")
    ]
    while await runtime.relay.publish_next_batch():
        pass
    await runtime.stop()
    published = bus.log(TOPIC)
    ids = {str(m.envelope().subject): m.envelope().id for m in published}

    async def all_seen() -> bool:
        return (await pool.fetchval("SELECT min(next_offset) FROM projection_offsets") or 0) >= len(
            published
        )

    await consume_until(projection, all_seen)
    applied = [event for result in told for event in result.event_ids]
    assert ids[str(notes[0])] in applied and ids[str(notes[2])] in applied
    assert ids[str(notes[1])] not in applied  # dead-lettered: not in the read model
    assert len(applied) == len(set(applied)) == sum(result.applied for result in told)

    again = await projection.apply_batch(published)  # delivered twice: nothing new applied
    assert again.event_ids == [] and again.applied == 0


async def test_a_dead_letter_from_the_in_process_bus_keeps_the_bytes_kafka_would_carry(
    pool, settings
) -> None:
    """accord dev's bus hands consumers envelopes with no bytes; a letter still keeps the key,
    value and headers the relay publishes to Kafka, as a letter from Kafka does."""
    bus = InProcessBus()
    runtime = await build_runtime("testkit", Notes, settings, bus.publisher())

    projection = ProjectionRunner("notes", bus.consumer([TOPIC]), pool, refuses_one_text)
    await projection.start()
    kept = await runtime.execute(runtime.app.write, uuid4(), "kept", actor_id="a", actor_role="r")
    exploding = await runtime.execute(
        runtime.app.write, uuid4(), "explode", actor_id="a", actor_role="r"
    )
    while await runtime.relay.publish_next_batch():
        pass
    [published] = [m for m in bus.log(TOPIC) if m.envelope().subject == str(exploding)]
    assert published.value is None  # nothing encoded on the way

    async def both_seen() -> bool:
        return await pool.fetchval("SELECT count(*) FROM projection_offsets") > 0 and (
            await pool.fetchval("SELECT min(next_offset) FROM projection_offsets") >= 2
        )

    await consume_until(projection, both_seen)
    await runtime.stop()
    assert await versions_of(pool, str(kept)) == 1
    [letter] = await pool.fetch(
        "SELECT key, value, headers, error_type FROM dead_letters WHERE ce_id = $1",
        published.envelope().id,
    )
    key, value, headers = to_kafka(published.envelope())
    assert (letter["key"], letter["value"]) == (key, value)
    assert json.loads(letter["headers"]) == [[name, raw.decode()] for name, raw in headers]
    assert letter["error_type"] == "ValueError"


async def _equals(value_coro, expected) -> bool:
    return await value_coro == expected


async def _from_zero(partitions):
    return {p: 0 for p in partitions}


async def _topic(settings: Settings) -> list[Message]:
    from tests.integration.kafka_tools import read_topic

    return await read_topic(settings.kafka_bootstrap, TOPIC)


async def _produce(settings: Settings, key, value, headers) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(TOPIC, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def _end_offsets(settings: Settings) -> dict[int, int]:
    return await end_offsets(settings.kafka_bootstrap, TOPIC)


async def _caught_up(pool: asyncpg.Pool, ends: dict[int, int]) -> bool:
    """The offsets stored with the read model have reached the given ends."""
    rows = await pool.fetch(
        "SELECT partition, next_offset FROM projection_offsets WHERE topic = $1", TOPIC
    )
    stored = {r["partition"]: r["next_offset"] for r in rows}
    return all(stored.get(partition, 0) >= end for partition, end in ends.items())


async def started(projection: ProjectionRunner) -> ProjectionRunner:
    await projection.start()
    return projection


async def unique_load(
    pool: asyncpg.Pool, settings: Settings, texts: list[str]
) -> tuple[ProjectionRunner, str, list[Message]]:
    """A batched runner of unique events (a rebuild from the stores), and one note written
    and rewritten: the runner, the note's id, and its messages as the relay published them."""
    bus = InProcessBus()
    runtime = await build_runtime("testkit", Notes, settings, bus.publisher())
    projection = ProjectionRunner(
        "notes", bus.consumer([TOPIC]), pool, count_versions,
        batching=Batching(count_versions, in_arrival_order), unique_events=True,
    )  # fmt: skip
    await projection.create_tables()
    note = await runtime.execute(runtime.app.write, uuid4(), texts[0], actor_id="a", actor_role="r")
    for text in texts[1:]:
        await runtime.execute(runtime.app.rewrite, note, text, "why", actor_id="a", actor_role="r")
    while await runtime.relay.publish_next_batch():
        pass
    await runtime.stop()
    # The store is the suite's: the relay publishes what other tests wrote too.
    published = [m for m in bus.log(TOPIC) if m.envelope().subject == str(note)]
    return projection, str(note), published


async def test_a_feed_of_unique_events_has_its_ids_copied_and_a_repeat_still_applies_once(
    pool, settings
) -> None:
    """A rebuild from the event stores reads each stored event once: the batch's ids are copied
    into the applied ones, not claimed one by one. Should an event come again after all (here
    at a new offset, as from a relay that published twice), the copy fails on the key and the
    batch is applied one event at a time: the repeat changes nothing."""
    projection, note, published = await unique_load(pool, settings, ["v1", "v2"])

    first = await projection.apply_batch(published)
    assert first.applied == len(published) == 2
    assert await versions_of(pool, note) == 2
    recorded = await pool.fetch("SELECT event_id FROM projection_applied_events")
    assert sorted(r["event_id"] for r in recorded) == sorted(m.envelope().id for m in published)

    repeated = [replace(m, offset=m.offset + len(published)) for m in published]
    again = await projection.apply_batch(repeated)
    assert (again.applied, again.duplicates) == (0, 2)
    assert await versions_of(pool, note) == 2


async def test_a_load_without_the_applied_key_gets_it_back_and_fails_on_a_repeat(
    pool, settings
) -> None:
    """A rebuild from the event stores loads with the applied ids' key dropped and builds it at
    the end. An event that came twice meanwhile is not stopped, but building the key fails,
    and the rebuild with it: nothing twice is ever swapped in."""
    projection, _, published = await unique_load(pool, settings, ["v1"])
    keys = (
        "SELECT indexname FROM pg_indexes WHERE tablename = 'projection_applied_events'"
        " AND schemaname = current_schema() ORDER BY indexname"
    )
    indexes = [r["indexname"] for r in await pool.fetch(keys)]

    await projection.drop_applied_keys()
    assert await pool.fetch(keys) == []
    assert (await projection.apply_batch(published)).applied == 1
    await projection.restore_applied_keys()
    assert [r["indexname"] for r in await pool.fetch(keys)] == indexes

    await projection.drop_applied_keys()
    repeated = [replace(m, offset=m.offset + 1) for m in published]
    assert (await projection.apply_batch(repeated)).applied == 1  # nothing stops it now
    with pytest.raises(AppliedTwice):
        await projection.restore_applied_keys()
