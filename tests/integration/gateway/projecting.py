"""Running the gateway's projector against the real broker until it has read every topic, and
reading read-model tables back for comparison."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any
from uuid import uuid4

import asyncpg

from services.gateway.projections.schema import READ_MODEL_TABLES
from services.gateway.projector import PROJECTION, TOPICS, build_projector
from shared.bus_kafka import KafkaBus, KafkaConsumer
from shared.projection import ProjectionRunner
from shared.settings import Settings
from tests.integration.kafka_tools import end_offsets


class OwnGroupBus(KafkaBus):
    """The Kafka bus, with a consumer group of the test's own (tests share one broker)."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__(bootstrap)
        self.suffix = uuid4().hex[:8]

    def consumer(self, topics: Sequence[str], group: str) -> KafkaConsumer:
        return super().consumer(topics, f"{group}-{self.suffix}")


async def topic_ends(bootstrap: str) -> dict[tuple[str, int], int]:
    """Where every partition of the projector's topics ends now."""
    ends: dict[tuple[str, int], int] = {}
    for topic in TOPICS:
        for partition, end in (await end_offsets(bootstrap, topic)).items():
            ends[(topic, partition)] = end
    return ends


async def has_read(pool: asyncpg.Pool, ends: dict[tuple[str, int], int]) -> bool:
    rows = await pool.fetch(
        "SELECT topic, partition, next_offset FROM projection_offsets WHERE projection = $1",
        PROJECTION,
    )
    stored = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
    return all(stored.get(p, 0) >= end for p, end in ends.items() if end > 0)


async def wait_until_read(pool: asyncpg.Pool, bootstrap: str, seconds: float = 60) -> None:
    """Until the projector committed everything the topics hold now."""
    ends = await topic_ends(bootstrap)
    async with asyncio.timeout(seconds):
        while not await has_read(pool, ends):
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def projector(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[ProjectionRunner]:
    """The gateway's projector running on the pool's schema, in a group of its own."""
    runner = build_projector(settings, OwnGroupBus(settings.kafka_bootstrap), pool)
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await runner.consumer.stop()


async def project_everything(settings: Settings, pool: asyncpg.Pool) -> None:
    """Run the projector until it has read every topic as it stands."""
    async with projector(settings, pool):
        await wait_until_read(pool, settings.kafka_bootstrap)


Row = dict[str, Any]


async def table_rows(
    conn: asyncpg.Pool | asyncpg.Connection,
    schema: str,
    table: str,
    *,
    where: str = "",
    args: Sequence[Any] = (),
    leave_out: Sequence[str] = (),
) -> list[Row]:
    """A table's rows, in a stable order, without the columns left out."""
    rows = await conn.fetch(f'SELECT * FROM "{schema}"."{table}" {where}', *args)
    kept = [{k: v for k, v in dict(r).items() if k not in leave_out} for r in rows]
    return sorted(kept, key=lambda row: json.dumps(row, sort_keys=True, default=str))


async def every_table(
    conn: asyncpg.Pool | asyncpg.Connection,
    schema: str,
    *,
    contracts: Sequence[str] = (),
    leave_out: dict[str, Sequence[str]] | None = None,
) -> dict[str, list[Row]]:
    """Every read-model table (optionally only some contracts' rows)."""
    where, args = ("WHERE contract_id = ANY($1)", [list(contracts)]) if contracts else ("", [])
    return {
        table: await table_rows(
            conn, schema, table, where=where, args=args, leave_out=(leave_out or {}).get(table, ())
        )
        for table in READ_MODEL_TABLES
    }
