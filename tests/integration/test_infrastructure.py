"""The real infrastructure answers: Kafka round-trips a message, Postgres runs a query."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


@pytest.mark.kafka
async def test_kafka_round_trips_a_message_on_a_fresh_topic(kafka_bootstrap: str) -> None:
    topic = f"accord.test.{uuid.uuid4().hex}"
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        # The first send to an unknown topic auto-creates it on the broker.
        await producer.send_and_wait(topic, b"hello", key=b"contract-1")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
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


async def test_postgres_answers_a_query(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        assert await connection.fetchval("select 1") == 1
    finally:
        await connection.close()
