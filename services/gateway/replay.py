"""`accord replay`: drop and rebuild every read model from the Kafka topics or from the services'
event stores, in a fresh schema that replaces the live one only once it is complete.

The live schema keeps serving, and the live projector keeps projecting into it, while the
rebuild runs. Messages are applied by the kernel's own `ProjectionRunner.apply_batch` with the
projector's dispatcher, so a rebuilt row is made exactly as a live one is. What the source holds
when the rebuild starts is loaded by `settings.replay_processes` processes, each the events of
its share of the contracts (replay_shards.py); this process applies what came after.

The swap takes a lock on the live schema's offsets table, which every projector batch locks
first: no batch is half-applied at that moment, and the rebuild first catches up with all the
live projector had applied. Then the schemas are renamed in one transaction; the projector's
connections find the new tables by their search_path from their next statement on.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Literal
from uuid import uuid4

import asyncpg

from services.gateway import replay_shards
from services.gateway.kafka_feed import KafkaFeed
from services.gateway.projections.schema import SCHEMA_NAME, create_tables
from services.gateway.projector import NOTIFY_CHANNEL, PROJECTION, TOPICS
from services.gateway.replay_runners import (
    Feed,
    Progress,
    ReplayFailed,
    Runners,
    drain,
    runners_for,
)
from services.gateway.store_feed import STORE_SERVICES, StoreFeed
from shared.bus import Partition
from shared.bus_kafka import KafkaAccess
from shared.database import create_pool
from shared.projection import AppliedTwice
from shared.settings import Settings

log = logging.getLogger(__name__)

Source = Literal["kafka", "store"]

# NOTIFY'd on the projector's channel when a rebuilt schema replaced the live one: every row
# may have changed, and the audit log's arrival positions were numbered afresh.
REPLAYED = f"{PROJECTION}:replayed"

# Indexes of the two tables that take a row for (nearly) every event, which only the gateway's
# queries read, never a handler: a rebuild drops them from its staging schema while it loads.
LOADED_WITHOUT = (
    "audit_log_in_order",
    "audit_log_by_type",
    "audit_log_by_actor",
    "expectation_versions_as_of",
    "expectation_versions_by_contract",
)


async def rebuild(
    settings: Settings,
    source: Source,
    progress: Progress,
    *,
    schema: str = SCHEMA_NAME,
) -> int:
    """Rebuild every read model of `schema` from `source` and swap it in; answers the number of
    events applied. `schema` is for tests, which keep their read models apart. Batches are
    applied together unless `settings.projection_batched` is off, as the live projector's."""
    staging = f"{schema}_rebuild_{uuid4().hex[:8]}"
    guard = await asyncpg.connect(settings.database_url)
    try:
        lock = f"accord-replay:{schema}"
        if not await guard.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock):
            raise ReplayFailed(f"another replay of {schema} is running")
        try:
            return await _rebuild_into(guard, settings, source, progress, schema, staging)
        except BaseException:
            # Half a rebuild is no use to anyone; the live schema was never touched.
            with contextlib.suppress(Exception):
                await guard.execute(f'DROP SCHEMA IF EXISTS "{staging}" CASCADE')
            raise
        finally:
            await guard.execute("SELECT pg_advisory_unlock(hashtext($1))", lock)
    finally:
        await guard.close()


async def _rebuild_into(
    guard: asyncpg.Connection[Any],
    settings: Settings,
    source: Source,
    progress: Progress,
    schema: str,
    staging: str,
) -> int:
    feed: KafkaFeed | StoreFeed
    if source == "kafka":
        if not settings.kafka_bootstrap:
            raise ReplayFailed("no Kafka is configured (ACCORD_KAFKA_BOOTSTRAP): use the store")
        feed = KafkaFeed(KafkaAccess.of(settings), TOPICS)
    else:
        feed = StoreFeed(settings.database_url, STORE_SERVICES, decode=settings.replay_decode)
    pool = await create_pool(settings.database_url, staging)
    try:
        async with pool.acquire() as conn:
            await create_tables(conn)
            # Built once at the end, from sorted rows, rather than kept up row by row.
            for index in LOADED_WITHOUT:
                await conn.execute(f'DROP INDEX "{staging}"."{index}"')
        # No NOTIFY while rebuilding: nobody reads the staging schema yet.
        runner = runners_for(settings, feed, pool)
        first = runner.runners[0]
        await first.start()  # the offsets table, and the feed
        if feed.unique_events:
            await first.drop_applied_keys()
        try:
            if settings.replay_processes > 1:
                await _load_in_processes(settings, staging, source, feed, runner, progress)
            await drain(runner, feed, progress)
            if feed.unique_events:
                try:
                    await first.restore_applied_keys()
                except AppliedTwice as error:
                    raise ReplayFailed(f"an event came twice from the stores: {error}") from error
            async with pool.acquire() as conn:
                await create_tables(conn)  # the indexes dropped above, and nothing else
            await _swap(guard, runner, feed, progress, schema, staging)
        finally:
            await feed.stop()
    finally:
        await pool.close()
    return runner.applied


async def _load_in_processes(
    settings: Settings,
    staging: str,
    source: Source,
    feed: KafkaFeed | StoreFeed,
    runner: Runners,
    progress: Progress,
) -> None:
    """What the feed has now, loaded by several processes (services/gateway/replay_shards.py);
    the feed goes on after it. Their offsets are stored once, here (they keep none)."""
    total, first = feed.total, feed.done
    applied = await replay_shards.load(
        settings, staging, source, feed.read_after, feed.targets,
        lambda done: progress(first + done, total),
    )  # fmt: skip
    runner.add_applied(applied)
    feed.skip_loaded()
    if isinstance(feed, KafkaFeed):
        await runner.runners[0].store_offsets(feed.targets)


async def _swap(
    guard: asyncpg.Connection[Any],
    runner: Runners,
    feed: Feed,
    progress: Progress,
    schema: str,
    staging: str,
) -> None:
    live_offsets = f'"{schema}".projection_offsets'
    live = await guard.fetchval("SELECT to_regclass($1) IS NOT NULL", live_offsets)
    if live:
        # Catch up with the live projector without blocking it, so the locked part is short.
        await feed.extend(await _offsets(guard, live_offsets))
        await drain(runner, feed, progress)
    retired = f"{schema}_replaced_{uuid4().hex[:8]}"
    async with guard.transaction():
        offsets: dict[Partition, int] = {}
        if live:
            # Waits for a batch in flight, and holds the next one until the swap commits.
            await guard.execute(f"LOCK TABLE {live_offsets} IN EXCLUSIVE MODE")
            offsets = await _offsets(guard, live_offsets)
            await feed.extend(offsets)
            await drain(runner, feed, progress)
        if feed.adopts_live_offsets:
            # Stored events carry no Kafka offsets: the projector resumes where it was, and
            # drops what the rebuild already holds by event id.
            await guard.execute(
                f'DELETE FROM "{staging}".projection_offsets WHERE projection = $1', PROJECTION
            )
            await guard.executemany(
                f'INSERT INTO "{staging}".projection_offsets'
                " (projection, topic, partition, next_offset) VALUES ($1, $2, $3, $4)",
                [(PROJECTION, p.topic, p.partition, o) for p, o in offsets.items()],
            )
        exists = await guard.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema
        )
        if exists:
            await guard.execute(f'ALTER SCHEMA "{schema}" RENAME TO "{retired}"')
        await guard.execute(f'ALTER SCHEMA "{staging}" RENAME TO "{schema}"')
        # Delivered on commit: whoever listens reads again from scratch.
        await guard.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, REPLAYED)
    log.info("replay: %s rebuilt (%d events applied)", schema, runner.applied)
    if exists:
        # Waits for a projector batch that was still reading the old offsets table.
        await guard.execute(f'DROP SCHEMA "{retired}" CASCADE')


async def _offsets(conn: asyncpg.Connection[Any], table: str) -> dict[Partition, int]:
    rows = await conn.fetch(
        f"SELECT topic, partition, next_offset FROM {table} WHERE projection = $1", PROJECTION
    )
    return {Partition(r["topic"], r["partition"]): r["next_offset"] for r in rows}
