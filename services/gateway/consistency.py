"""Read-your-writes: wait until the read model has applied the events a command stored."""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

import asyncpg

from shared.relay import event_id


def events_of_command(aggregate_id: str, version: int, stored: int) -> list[str]:
    """The ce_ids of the events a command stored: the aggregate's last `stored` versions."""
    first = version - stored + 1
    return [event_id(UUID(aggregate_id), v) for v in range(first, version + 1)]


async def caught_up(pool: asyncpg.Pool, event_ids: list[str], within: float) -> bool:
    """True once every event is in the read model; False if that takes longer than `within`."""
    if not event_ids:
        return True
    deadline = time.monotonic() + within
    delay = 0.01
    while True:
        applied = await pool.fetchval(
            "SELECT count(*) FROM audit_log WHERE event_id = ANY($1::text[])", event_ids
        )
        if applied == len(event_ids):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.2)
