"""On the real broker: a consumer hands out nothing before where its caller said to resume, even
when the caller takes its time to say it (the stored offsets are read from the database while
the client may already be fetching from the earliest offset), or fails to say it at first (the
database away for a moment): it is asked again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import uuid4

import pytest

from shared.bus import Partition
from shared.bus_kafka import KafkaConsumer, KafkaPublisher
from shared.schemas.registry import topic_for
from tests.integration.kafka_tools import end_offsets
from tests.support import notes
from tests.support.notes import written_on as note


@pytest.mark.parametrize("caller", ["slow", "failing once"])
async def test_nothing_before_the_resume_point_is_handed_out(
    kafka_bootstrap: str, caller: str, caplog: pytest.LogCaptureFixture
) -> None:
    topic = f"{topic_for(notes.SERVICE)}.resume-{uuid4().hex[:8]}"
    key = str(uuid4())
    publisher = KafkaPublisher(kafka_bootstrap, "resume-test")
    await publisher.start()
    try:
        await publisher.publish(topic, [note(key) for _ in range(3)])
        ends = await end_offsets(kafka_bootstrap, topic, created=True)
        consumer = KafkaConsumer(kafka_bootstrap, [topic], f"resume-{uuid4().hex[:8]}", "t")

        reading = asyncio.Event()
        asked: list[int] = []

        async def stored(partitions: Sequence[Partition]) -> dict[Partition, int]:
            asked.append(1)
            await reading.wait()  # the stored offsets' read, still under way
            if caller == "failing once" and len(asked) == 1:
                raise ConnectionError("the database is away")
            return {p: ends.get(p.partition, 0) for p in partitions}

        await consumer.start(stored)
        try:
            # Assigned, the client fetches meanwhile; the caller has not said where to resume.
            got = await consumer.fetch(timeout=3.0, max_records=100)
            reading.set()
            await publisher.publish(topic, [note(key) for _ in range(2)])
            async with asyncio.timeout(30):
                while len(got) < 2:
                    got += await consumer.fetch(timeout=0.5, max_records=100)
            got += await consumer.fetch(timeout=0.5, max_records=100)  # anything more
        finally:
            await consumer.stop()
    finally:
        await publisher.stop()
    # One key, one partition: the three published before, then the two after.
    [partition] = [p for p, end in ends.items() if end]
    assert [(m.partition, m.offset) for m in got] == [(partition, 3), (partition, 4)]
    if caller == "failing once":
        assert len(asked) == 2
        assert "could not be read, again: the database is away" in caplog.text
