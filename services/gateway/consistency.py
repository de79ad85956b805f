"""Read-your-writes: wait until the read model has applied the events a command stored.

Every command of the process that waits is checked by the same query: after each committed
batch of the projector (its NOTIFY) one read of the audit log answers all of them, where each
command used to read it for itself, so sixteen waiting commands made sixteen queries a batch.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import UUID

import asyncpg

from services.gateway.listening import ReadModelChanges, Wakeup
from shared.event_ids import event_id

# Without a NOTIFY (a lost one, or no listener), look again this often.
POLL_SECONDS = 0.2


def events_of_command(aggregate_id: str, version: int, stored: int) -> list[str]:
    """The ce_ids of the events a command stored: the aggregate's last `stored` versions."""
    first = version - stored + 1
    return [event_id(UUID(aggregate_id), v) for v in range(first, version + 1)]


class _Waiting:
    """One command's wait: the events not seen yet, and its answer once all are."""

    def __init__(self, event_ids: list[str]) -> None:
        self.missing = set(event_ids)
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()


class ReadYourWrites:
    """The commands of this process waiting for the read model, checked together."""

    def __init__(self, pool: asyncpg.Pool, changes: ReadModelChanges | None) -> None:
        self.pool = pool
        self.changes = changes
        self._waiting: set[_Waiting] = set()
        self._checker: asyncio.Task[None] | None = None
        # Set by a command that starts waiting: its events may be in the read model already.
        self._arrived = asyncio.Event()

    async def caught_up(self, event_ids: list[str], within: float) -> bool:
        """True once every event is in the read model; False if that takes longer than
        `within`. A read that fails fails every command waiting on it."""
        if not event_ids:
            return True
        waiting = _Waiting(event_ids)
        self._waiting.add(waiting)
        self._arrived.set()
        if self._checker is None or self._checker.done():
            self._checker = asyncio.get_running_loop().create_task(self._check())
        try:
            async with asyncio.timeout(within):
                return await waiting.done
        except TimeoutError:
            return False
        finally:
            self._waiting.discard(waiting)

    async def _check(self) -> None:
        """Until nobody waits: read which of the awaited events are applied, answer those
        waiting for no other, then sleep until the read model changes, a command starts
        waiting, or the poll's time is up."""
        with self.changes.subscribe() if self.changes else contextlib.nullcontext() as changed:
            while self._waiting:
                self._arrived.clear()
                try:
                    await self._read_applied()
                except Exception as error:
                    for waiting in self._waiting:
                        if not waiting.done.done():
                            waiting.done.set_exception(error)
                    return
                if self._waiting:
                    await self._until_changed(changed)

    async def _read_applied(self) -> None:
        waiting = [w for w in self._waiting if not w.done.done()]
        wanted = sorted({event for w in waiting for event in w.missing})
        if not wanted:
            return
        applied = {
            row["event_id"]
            for row in await self.pool.fetch(
                "SELECT event_id FROM audit_log WHERE event_id = ANY($1::text[])", wanted
            )
        }
        for w in waiting:
            w.missing -= applied
            if not w.missing and not w.done.done():
                w.done.set_result(True)
                self._waiting.discard(w)

    async def _until_changed(self, changed: Wakeup | None) -> None:
        rung: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._arrived.wait())]
        if changed is not None:
            rung.append(asyncio.ensure_future(changed.wait()))
        try:
            await asyncio.wait(rung, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in rung:
                waiter.cancel()
