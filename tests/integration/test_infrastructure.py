"""The real infrastructure answers: Kafka round-trips a message, Postgres runs a query."""

from __future__ import annotations

import os
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

KAFKA = os.environ.get("ACCORD_KAFKA_BOOTSTRAP")
DATABASE_URL = os.environ.get("DATABASE_URL")
HOW = "run under `python -m accord.infra run -- pytest ...`"


@pytest.mark.kafka
@pytest.mark.skipif(not KAFKA, reason=f"ACCORD_KAFKA_BOOTSTRAP is not set; {HOW}")
async def test_kafka_round_trips_a_message_on_a_fresh_topic() -> None:
    topic = f"accord.test.{uuid.uuid4().hex}"
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        # The first send to an unknown topic auto-creates it on the broker.
        await producer.send_and_wait(topic, b"hello", key=b"contract-1")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=KAFKA,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=20_000, max_records=1)
    finally:
        await consumer.stop()

    records = [record for batch in batches.values() for record in batch]
    assert [(r.key, r.value) for r in records] == [(b"contract-1", b"hello")]


@pytest.mark.skipif(not DATABASE_URL, reason=f"DATABASE_URL is not set; {HOW}")
async def test_postgres_answers_a_query() -> None:
    connection = await asyncpg.connect(DATABASE_URL)
    try:
        assert await connection.fetchval("select 1") == 1
    finally:
        await connection.close()
