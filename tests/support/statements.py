"""Pools whose every statement asyncpg notes, for tests that count what code says to the
database (the statements themselves, as PostgreSQL receives them)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg


@contextlib.asynccontextmanager
async def noting_pool(
    database_url: str, search_path: str, *, max_size: int = 1
) -> AsyncIterator[tuple[asyncpg.Pool, list[str]]]:
    """A pool on `search_path`, and the list each of its statements is appended to."""
    statements: list[str] = []

    async def noted(conn: asyncpg.Connection[Any]) -> None:
        conn.add_query_logger(lambda logged: statements.append(logged.query))

    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=max_size, init=noted,
        server_settings={"search_path": search_path},
    )  # fmt: skip
    try:
        yield pool, statements
    finally:
        await pool.close()
