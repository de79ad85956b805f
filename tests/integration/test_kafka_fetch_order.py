"""On the real broker: one fetch hands a consumer of two topics their records in the order they
were published, each partition's in its own order; Kafka itself orders nothing across
partitions, and a view of two services' events (a ranking, then a measurement it makes a
corporate priority) needs the earlier one first."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import uuid4

from shared.bus import Message, Partition
from shared.bus_kafka import KafkaConsumer, KafkaPublisher
from shared.schemas.registry import topic_for
from tests.support import notes


async def test_one_fetch_of_two_topics_hands_their_records_in_the_order_they_were_published(
    kafka_bootstrap: str,
) -> None:
    suffix = uuid4().hex[:8]
    ranking, elicitation = (f"{topic_for(notes.SERVICE)}.{name}-{suffix}" for name in "re")
    publisher = KafkaPublisher(kafka_bootstrap, "fetch-order-test")
    await publisher.start()
    published: list[str] = []
    try:
        for topic in (ranking, elicitation, ranking, elicitation, elicitation, ranking):
            envelope = notes.written_on(str(uuid4()))
            await publisher.publish(topic, [envelope])
            published.append(envelope.id)
            await asyncio.sleep(0.005)  # each a later millisecond: the records' timestamps
    finally:
        await publisher.stop()

    async def from_the_start(partitions: Sequence[Partition]) -> dict[Partition, int]:
        return {p: 0 for p in partitions}

    consumer = KafkaConsumer(kafka_bootstrap, [elicitation, ranking], f"order-{suffix}", "order")
    await consumer.start(from_the_start)
    fetches: list[list[Message]] = []
    try:
        async with asyncio.timeout(60):
            while sum(len(f) for f in fetches) < len(published):
                if fetched := await consumer.fetch(timeout=1.0, max_records=100):
                    fetches.append(fetched)
    finally:
        await consumer.stop()

    # Every fetch that held both topics put their records in the order they were published.
    both = [f for f in fetches if {m.topic for m in f} == {ranking, elicitation}]
    assert both, [[m.topic for m in f] for f in fetches]
    for fetched in fetches:
        order = [m.envelope().id for m in fetched]
        assert order == [i for i in published if i in order]
