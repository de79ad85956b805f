"""Reading a topic back from the real broker, as an outside consumer would."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.bus import Message


async def _assigned_consumer(
    bootstrap: str, topic: str, created: bool
) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    partitions: list[TopicPartition] = []
    for _ in range(40 if created else 1):
        # A topic just created can be missing from the metadata of the broker asked: its end
        # offsets would then be none at all, and a reader told to start there would start at 0.
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        if partitions:
            break
        await asyncio.sleep(0.25)
    consumer.assign(partitions)
    return consumer, partitions


async def end_offsets(bootstrap: str, topic: str, *, created: bool = False) -> dict[int, int]:
    """The end offset of each partition of the topic, now (created: the caller made the topic,
    so it waits until the broker asked knows of it)."""
    consumer, partitions = await _assigned_consumer(bootstrap, topic, created)
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {tp.partition: end for tp, end in ends.items()}


async def read_topic(bootstrap: str, topic: str, *, key: str | None = None) -> list[Message]:
    """Every message now on the topic (optionally only one key), partition by partition."""
    for _ in range(20):
        try:
            return await _read_topic(bootstrap, topic, key)
        except AssertionError:
            # A topic the broker is still creating can drop out of the consumer's assignment.
            await asyncio.sleep(0.25)
    return await _read_topic(bootstrap, topic, key)


async def _read_topic(bootstrap: str, topic: str, key: str | None) -> list[Message]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [
                TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []
            ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        messages: list[Message] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                messages.extend(
                    Message(r.topic, r.partition, r.offset, r.key, r.value, tuple(r.headers))
                    for r in records
                )
    finally:
        await consumer.stop()
    if key is not None:
        messages = [m for m in messages if m.key == key.encode()]
    return messages
