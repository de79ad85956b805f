"""asyncpg pools, one schema per owner, and the kernel's own bookkeeping tables."""

from __future__ import annotations

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
    )
    assert pool is not None
    return pool


async def _nothing_to_reset(_connection: asyncpg.Connection[Any]) -> None:
    return None
