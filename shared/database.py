"""asyncpg pools, one schema per owner, and the kernel's own bookkeeping tables."""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# What handlers receive: a connection of the pool, inside the batch's transaction.
Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"


async def create_pool(database_url: str, schema: str, *, max_size: int = 5) -> asyncpg.Pool:
    """A pool whose connections see `schema` first; the schema is created if missing."""

    async def init(conn: asyncpg.Connection) -> None:
        await conn.execute(f'SET search_path TO "{schema}", public')

    bootstrap = await asyncpg.connect(database_url)
    try:
        await bootstrap.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    finally:
        await bootstrap.close()
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=max_size, init=init)
    assert pool is not None
    return pool
