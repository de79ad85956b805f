"""Read-your-writes: wait until the read model has applied the events a command stored."""

from __future__ import annotations

import asyncio
import contextlib
import time
from uuid import UUID

import asyncpg

from services.gateway.listening import ReadModelChanges
from shared.event_ids import event_id

# Without a NOTIFY (a lost one, or no listener), look again this often.
POLL_SECONDS = 0.2


def events_of_command(aggregate_id: str, version: int, stored: int) -> list[str]:
    """The ce_ids of the events a command stored: the aggregate's last `stored` versions."""
    first = version - stored + 1
    return [event_id(UUID(aggregate_id), v) for v in range(first, version + 1)]


async def caught_up(
    pool: asyncpg.Pool, event_ids: list[str], within: float, changes: ReadModelChanges | None
) -> bool:
    """True once every event is in the read model; False if that takes longer than `within`.
    Woken by the projector's NOTIFY after each batch; a slow poll is the safety net."""
    if not event_ids:
        return True
    deadline = time.monotonic() + within
    with changes.subscribe() if changes else contextlib.nullcontext() as wakeup:
        while True:
            applied = await pool.fetchval(
                "SELECT count(*) FROM audit_log WHERE event_id = ANY($1::text[])", event_ids
            )
            if applied == len(event_ids):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, POLL_SECONDS)):
                    await (wakeup.wait() if wakeup else asyncio.sleep(POLL_SECONDS))
