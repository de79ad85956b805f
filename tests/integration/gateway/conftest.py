"""Fixtures of the gateway's read-model tests: settings, and a read-model schema per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import pytest

from services.gateway.projections.schema import create_tables
from services.gateway.schema import Engine
from shared.bus_kafka import KafkaPublisher
from shared.database import create_pool
from shared.settings import Settings


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str) -> Settings:
    return Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)


@pytest.fixture(params=["accord", "stock"])
def graphql_engine(request: pytest.FixtureRequest) -> Engine:
    """Who runs GraphQL operations: the gateway's own pipeline, or stock strawberry (the same
    answers, which the tests that ask for this fixture check on both)."""
    engine: Engine = request.param
    return engine


@pytest.fixture
async def schema(database_url: str) -> AsyncIterator[str]:
    """A read-model schema of the test's own, so tests never see each other's tables; dropped
    once the test and the fixtures using it are done."""
    name = f"readmodel_test_{uuid4().hex[:8]}"
    yield name
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
async def pool(settings: Settings, schema: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings.database_url, schema)
    async with pool.acquire() as conn:
        await create_tables(conn)
    yield pool
    await pool.close()


@pytest.fixture
async def publisher(settings: Settings) -> AsyncIterator[KafkaPublisher]:
    publisher = KafkaPublisher(settings.kafka_bootstrap, "gateway-tests")
    await publisher.start()
    yield publisher
    await publisher.stop()
