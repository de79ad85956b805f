"""A task cancelled while its executemany streams rows to PostgreSQL ends, and its pool goes on.

asyncpg alone leaves such a task waiting forever (the server waits for the rest of the rows),
which is how a stopped `accord dev`, or a test session's event loop, never ended.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import pytest

from shared import database
from shared.database import create_pool

ROWS = [(n, "x" * 300) for n in range(3_000)]


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, f"cancelled_{uuid4().hex[:8]}", max_size=2)
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE rows (n bigint, text text)")
    yield pool
    await pool.close()


async def _insert(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany("INSERT INTO rows VALUES ($1, $2)", ROWS)


@pytest.mark.parametrize("after", [0.0005, 0.001, 0.002, 0.004, 0.008])
async def test_a_task_cancelled_while_its_rows_stream_ends_and_its_pool_goes_on(
    pool: asyncpg.Pool, after: float
) -> None:
    inserting = asyncio.create_task(_insert(pool))
    await asyncio.sleep(after)
    inserting.cancel()
    done, _ = await asyncio.wait([inserting], timeout=database.FINISH_SECONDS)
    assert done, "the cancelled insert never ended"
    assert inserting.cancelled() or inserting.exception() is None
    # All the rows or none: the transaction committed before the cancellation, or rolled back.
    assert await pool.fetchval("SELECT count(*) FROM rows") in (0, len(ROWS))
    await _insert(pool)  # the pool's connection is back, and usable


async def test_a_statement_that_does_not_end_has_its_connection_closed(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "FINISH_SECONDS", 0.2)
    async with pool.acquire() as holder, holder.transaction():
        # The insert waits on this lock: its rows are sent, the statement does not end.
        await holder.execute("LOCK TABLE rows IN ACCESS EXCLUSIVE MODE")
        async with pool.acquire() as waiting:
            backend = waiting.get_server_pid()
            inserting = asyncio.create_task(
                waiting.executemany("INSERT INTO rows VALUES ($1, $2)", ROWS[:10])
            )
            await asyncio.sleep(0.2)
            assert not inserting.done()
            started = time.monotonic()
            inserting.cancel()
            done, _ = await asyncio.wait([inserting], timeout=5)
            assert done and inserting.cancelled()
            assert time.monotonic() - started < 2
    assert await pool.fetchval("SELECT count(*) FROM rows") == 0
    async with asyncio.timeout(5):  # its connection was closed: the server lets it go
        while await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", backend):
            await asyncio.sleep(0.05)
