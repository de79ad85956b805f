"""Stopping a process in bounded time: a step that hangs is logged and left behind, so a
SIGTERM always ends the process (an orchestrator would SIGKILL it anyway)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

import asyncpg

log = logging.getLogger(__name__)

STEP_SECONDS = 5.0


async def within(what: str, step: Awaitable[object], seconds: float = STEP_SECONDS) -> None:
    """Await one shutdown step; past `seconds`, or on an error, say so and go on."""
    try:
        await asyncio.wait_for(step, seconds)
    except TimeoutError:
        log.warning("%s did not stop within %.0f s; going on", what, seconds)
    except Exception as error:
        log.warning("%s failed while stopping: %s", what, error)


async def close_pool(pool: asyncpg.Pool, seconds: float = STEP_SECONDS) -> None:
    """Close gracefully; connections still held past `seconds` are cut."""
    try:
        await asyncio.wait_for(pool.close(), seconds)
    except TimeoutError:
        log.warning("database pool did not close within %.0f s; terminating it", seconds)
        pool.terminate()
