"""asyncpg pools, one schema per owner, and the kernel's own bookkeeping tables."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# What handlers receive: a connection of the pool, inside the batch's transaction.
Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"


async def create_pool(
    database_url: str,
    schema: str,
    *,
    max_size: int = 5,
    plain_queries: bool = False,
    custom_plans: bool = False,
) -> asyncpg.Pool:
    """A pool whose connections see `schema` first; the schema is created if missing.

    With `plain_queries` (a pool that never LISTENs, locks or SETs anything), a connection goes
    back without the RESET query round trip; asyncpg still rolls back a transaction left open.

    With `custom_plans`, PostgreSQL plans each statement for the values it is given, every
    time. asyncpg prepares each statement once per connection, and after five runs PostgreSQL
    may keep one generic plan for it, made for the table as it was then: a plan made while a
    table was nearly empty scans it whole, however big it grows, until the table is next
    analyzed. This is for a hot lookup on a table that starts empty and grows fast.
    """

    bootstrap = await asyncpg.connect(database_url)
    try:
        await bootstrap.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    finally:
        await bootstrap.close()
    # A startup setting, so the pool's RESET ALL on release keeps it.
    pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=max_size,
        server_settings={"search_path": f'"{schema}", public'}
        | ({"plan_cache_mode": "force_custom_plan"} if custom_plans else {}),
        reset=_nothing_to_reset if plain_queries else None,
        connection_class=RowsSentWhole,
    )
    assert pool is not None
    return pool


async def _nothing_to_reset(_connection: asyncpg.Connection[Any]) -> None:
    return None


# How long an executemany in flight when its caller is cancelled gets to end before its
# connection is closed under it.
FINISH_SECONDS = 10.0


class RowsSentWhole(asyncpg.Connection):
    """A connection whose `executemany`, once started, sends its rows to the end before a
    cancellation of its caller takes effect.

    asyncpg streams an executemany's rows to the server. Cancelled midway, it stops sending
    them, asks the server to cancel and waits for the answer, forever: the server runs nothing
    it could cancel, it waits for the rest of the rows (pg_stat_activity: active, ClientRead).
    The cancelled task never ends, and neither does an event loop that waits for its tasks
    (`accord dev` stopped with Ctrl-C, a test session's end). Here the rows are sent to the end
    (a batch's take milliseconds) and the caller is cancelled after, as it would have been just
    before or just after the statement; one that has not ended within FINISH_SECONDS has its
    connection closed, which ends it."""

    async def executemany(
        self, command: str, args: Iterable[Any], *, timeout: float | None = None
    ) -> None:
        sending = asyncio.ensure_future(super().executemany(command, args, timeout=timeout))
        sending.add_done_callback(_retrieved)
        try:
            await asyncio.shield(sending)
        except asyncio.CancelledError:
            await _ended(self, sending)
            raise


async def _ended(conn: asyncpg.Connection[Any], sending: asyncio.Future[None]) -> None:
    """Until `sending` ends; its connection is closed if it takes too long, or if the caller is
    cancelled again meanwhile."""
    try:
        async with asyncio.timeout(FINISH_SECONDS):
            await asyncio.wait([sending])
    except (TimeoutError, asyncio.CancelledError):
        conn.terminate()


def _retrieved(sending: asyncio.Future[None]) -> None:
    """Its failure is the caller's, or nobody's once the caller was cancelled: never logged as
    an exception nobody retrieved."""
    if not sending.cancelled():
        sending.exception()
