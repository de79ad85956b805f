"""One LISTEN connection per gateway process, shared by every live subscription.

Each subscriber used to LISTEN on a connection of the query pool and keep it for as long as it
stayed subscribed: a handful of open subscriptions took every connection, and queries and
mutations then waited for one forever. Here one connection of its own listens for the
projector's NOTIFY and wakes every subscriber; subscribers use the pool only to read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import asyncpg
import tenacity

from services.gateway.projector import NOTIFY_CHANNEL
from services.gateway.replay import REPLAYED

log = logging.getLogger(__name__)


class Wakeup:
    """One subscriber's doorbell: rung after each committed batch of the projector."""

    def __init__(self) -> None:
        self._rung = asyncio.Event()
        self._replayed = False

    def ring(self, *, replayed: bool = False) -> None:
        self._replayed = self._replayed or replayed
        self._rung.set()

    async def wait(self) -> bool:
        """Until the read models changed; True if they were rebuilt (audit positions renumbered)."""
        await self._rung.wait()
        self._rung.clear()
        replayed, self._replayed = self._replayed, False
        return replayed


class ReadModelChanges:
    """The projector's NOTIFY, fanned out to every subscriber of this process."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._subscribers: set[Wakeup] = set()
        self._connection: asyncpg.Connection[Any] | None = None
        self._reconnecting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        connection: asyncpg.Connection[Any] = await asyncpg.connect(self.database_url)
        await connection.add_listener(NOTIFY_CHANNEL, self._notified)
        connection.add_termination_listener(self._lost)
        self._connection = connection

    async def stop(self) -> None:
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnecting
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.remove_termination_listener(self._lost)
            await connection.close(timeout=5)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[Wakeup]:
        """A doorbell for as long as the block runs; enter it before reading where to start."""
        wakeup = Wakeup()
        self._subscribers.add(wakeup)
        try:
            yield wakeup
        finally:
            self._subscribers.discard(wakeup)

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        for wakeup in list(self._subscribers):
            wakeup.ring(replayed=payload == REPLAYED)

    def _lost(self, _conn: Any) -> None:
        if self._connection is not None and self._reconnecting is None:
            log.warning("the read-model LISTEN connection was lost; reconnecting")
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        try:
            async for attempt in tenacity.AsyncRetrying(
                wait=tenacity.wait_exponential(multiplier=0.2, max=5),
                retry=tenacity.retry_if_exception_type((OSError, asyncpg.PostgresError)),
            ):
                with attempt:
                    await self.start()
        finally:
            self._reconnecting = None
        # What was committed while nobody listened is read now: every subscriber reads again.
        for wakeup in list(self._subscribers):
            wakeup.ring()
