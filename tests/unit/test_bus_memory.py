"""The in-process bus, once sealed, keeps only what some consumer has not committed yet; it
never drops what a consumer may be sent again, and an unsealed one keeps everything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from shared.bus import Partition
from shared.bus_memory import InProcessBus, InProcessConsumer
from shared.envelope import Envelope, StoredCopy, from_kafka, to_kafka
from shared.schemas import registry

TOPIC = "accord.notifications.v1"
OTHER = "accord.ranking.v1"


def notes(count: int) -> list[Envelope]:
    spec = registry.latest("notifications", "NotificationQueued")
    assert spec.example is not None
    return [
        Envelope(
            id=str(uuid4()),
            type=spec.ce_type,
            source="/accord/notifications",
            subject=str(uuid4()),
            time=datetime(2027, 1, 1, tzinfo=UTC),
            key="c",
            data=spec.to_data(spec.example),
            sequence=1,
        )
        for _ in range(count)
    ]


async def resumed(bus: InProcessBus, topics: list[str], at: int = 0) -> InProcessConsumer:
    consumer = bus.consumer(topics)

    async def stored(partitions: Sequence[Partition]) -> dict[Partition, int]:
        return {p: at for p in partitions}

    await consumer.start(stored)
    return consumer


async def applied(consumer: InProcessConsumer, count: int) -> list[int]:
    """Fetch `count` messages and commit them, as a projection runner does."""
    batch = await consumer.fetch(timeout=0, max_records=count)
    await consumer.commit({Partition(TOPIC, 0): batch[-1].offset + 1})
    return [m.offset for m in batch]


async def test_what_every_consumer_committed_is_dropped_and_offsets_go_on() -> None:
    bus = InProcessBus(forget_after=5)
    fast, slow = await resumed(bus, [TOPIC]), await resumed(bus, [TOPIC])
    bus.seal()
    await bus.append(TOPIC, notes(20))
    assert await applied(fast, 20) == list(range(20))
    assert await applied(slow, 8) == list(range(8))
    assert bus.log(TOPIC)[0].offset == 8  # what the slow one still needs, and no more
    assert slow.lag() == 12 and fast.lag() == 0

    # Sent again from its committed offset (a failed batch seeks back there): all still kept.
    await slow.seek({Partition(TOPIC, 0): 8})
    assert await applied(slow, 12) == list(range(8, 20))
    assert bus.log(TOPIC) == []  # both committed all twenty
    await bus.append(TOPIC, notes(3))
    assert [m.offset for m in bus.log(TOPIC)] == [20, 21, 22]
    assert await applied(fast, 3) == [20, 21, 22]


async def test_a_little_committed_is_kept_until_enough_piles_up() -> None:
    bus = InProcessBus(forget_after=5)
    consumer = await resumed(bus, [TOPIC])
    bus.seal()
    await bus.append(TOPIC, notes(4))
    await applied(consumer, 4)
    assert len(bus.log(TOPIC)) == 4  # fewer than five: not worth copying the list for


async def test_a_topic_nobody_consumes_keeps_nothing_once_sealed() -> None:
    bus = InProcessBus(forget_after=1)
    await resumed(bus, [OTHER])
    bus.seal()
    await bus.append(TOPIC, notes(3))
    assert bus.log(TOPIC) == [] and bus.end(TOPIC) == 3


async def test_an_unsealed_bus_keeps_everything_for_a_consumer_yet_to_come() -> None:
    bus = InProcessBus(forget_after=1)
    first = await resumed(bus, [TOPIC])
    await bus.append(TOPIC, notes(6))
    await applied(first, 6)
    late = await resumed(bus, [TOPIC])  # a process started after the first one applied
    assert [m.offset for m in await late.fetch(timeout=0, max_records=10)] == list(range(6))
    bus.seal()
    with pytest.raises(RuntimeError, match="sealed"):
        bus.consumer([TOPIC])


async def test_a_consumer_resuming_ahead_needs_nothing_before_where_it_resumed() -> None:
    bus = InProcessBus(forget_after=1)
    # After a restart the relay republishes from the start; the views resume at their offsets.
    behind, ahead = await resumed(bus, [TOPIC], at=2), await resumed(bus, [TOPIC], at=5)
    bus.seal()
    await bus.append(TOPIC, notes(6))
    assert bus.log(TOPIC)[0].offset == 2
    assert await applied(behind, 10) == [2, 3, 4, 5]
    assert [m.offset for m in bus.log(TOPIC)] == [5]
    assert await applied(ahead, 10) == [5]


async def test_a_consumer_reads_the_envelope_its_bytes_decode_to_for_every_contract() -> None:
    """The bus hands out the envelope published, with no bytes: for the example of every
    registered contract, it is what a Kafka consumer decodes from the bytes the relay
    publishes."""
    bus = InProcessBus()
    consumer = await resumed(bus, [TOPIC])
    published = []
    for spec in registry:
        if spec.example is None:
            continue
        envelope = notes(1)[0]
        copy = StoredCopy(str(uuid4()), str(uuid4()), 3, 42, envelope.time, "ab", "cd")
        published.append(
            replace(
                envelope,
                type=spec.ce_type,
                data=spec.to_data(spec.example),
                copies=(copy,) if len(published) % 2 else (),
                chain_hash="0f" * 32,
                position=len(published) + 1,
                traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )
        )
    await bus.append(TOPIC, published)
    consumed = await consumer.fetch(timeout=0, max_records=len(published))
    assert len(consumed) == len(published) > 50
    for envelope, message in zip(published, consumed, strict=True):
        key, value, headers = to_kafka(envelope)
        from_bytes = from_kafka(key, value, headers, topic=TOPIC, offset=message.offset)
        assert message.envelope() == from_bytes


async def test_a_consumer_of_several_topics_is_handed_their_messages_in_the_order_they_came() -> (
    None
):
    # A view of two services' events must apply a ranking published before a measurement in
    # that order, however its batches fall (it lists the topics in another order).
    bus = InProcessBus()
    consumer = await resumed(bus, [TOPIC, OTHER])
    ranked, measured, again = notes(1), notes(2), notes(1)
    await bus.append(OTHER, ranked)
    await bus.append(TOPIC, measured)
    await bus.append(OTHER, again)
    came = [e.id for e in (*ranked, *measured, *again)]

    first = await consumer.fetch(timeout=0, max_records=2)
    rest = await consumer.fetch(timeout=0, max_records=10)
    assert [m.envelope().id for m in (*first, *rest)] == came
    assert [(m.topic, m.offset) for m in first] == [(OTHER, 0), (TOPIC, 0)]
    assert [(m.topic, m.offset) for m in rest] == [(TOPIC, 1), (OTHER, 1)]
    assert await consumer.fetch(timeout=0, max_records=10) == []


async def test_a_log_republished_behind_its_consumers_keeps_its_numbering_at_the_seal() -> None:
    """After a restart a relay republishes from its start while the consumers resume further
    on: sealing then drops only what the log holds, so each message keeps its first offset."""
    bus = InProcessBus(forget_after=5)
    consumer = await resumed(bus, [TOPIC], at=50)
    published = notes(60)
    await bus.publisher().publish(TOPIC, published[:3])
    bus.seal()
    await bus.publisher().publish(TOPIC, published[3:])
    batch = await consumer.fetch(timeout=0, max_records=20)
    assert [m.offset for m in batch] == list(range(50, 60))
    assert [m.decoded.id for m in batch] == [e.id for e in published[50:]]
