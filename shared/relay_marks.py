"""Where a relay on the in-process bus starts again after a restart: at a mark, not the start.

The in-process bus keeps nothing across a restart, so a relay publishes the notification log
again, in the same order, and each message gets the offset it had before. Every consumer
resumes at the offsets stored with its read models, so what lies before the smallest of them
is republished for nobody. While publishing, the relay marks now and then which bus offset the
event after a stored position gets; after a restart it starts at the last mark no consumer
resumes before, and the bus numbers the topic from that mark's offset.
"""

from __future__ import annotations

import logging

import asyncpg

from shared.bus_memory import InProcessBus

log = logging.getLogger(__name__)


class BusMarks:
    """The relay's position (see shared.relay.Positions), with marks kept in the service's
    schema: (stored position, bus offset of the event after it), one every `every` messages."""

    def __init__(
        self, pool: asyncpg.Pool, relay: str, bus: InProcessBus, topic: str, *, every: int
    ) -> None:
        self._pool = pool
        self._relay = relay
        self._bus = bus
        self._topic = topic
        self._every = every
        self._position: int | None = None
        self._marked_at = 0  # the bus offset of the newest mark

    async def create_table(self) -> None:
        await self._pool.execute(
            "CREATE TABLE IF NOT EXISTS outbox_marks (relay text NOT NULL,"
            " position bigint NOT NULL, bus_offset bigint NOT NULL,"
            " PRIMARY KEY (relay, position))"
        )

    async def load(self) -> int:
        if self._position is None:
            self._position = await self._resume()
        return self._position

    async def _resume(self) -> int:
        """Once every consumer has resumed: the last mark before all of them, or the start."""
        resume = await self._bus.resume_point(self._topic)
        row = await self._pool.fetchrow(
            "SELECT position, bus_offset FROM outbox_marks WHERE relay = $1"
            " AND ($2::bigint IS NULL OR bus_offset <= $2) ORDER BY bus_offset DESC LIMIT 1",
            self._relay, resume,
        )  # fmt: skip
        if row is None:
            return 0
        self._bus.start_at(self._topic, row["bus_offset"])
        self._marked_at = row["bus_offset"]
        log.info(
            "relay %s: publishing again from event %d (message %d); its consumers resume at %s",
            self._relay, row["position"], row["bus_offset"], resume,
        )  # fmt: skip
        return int(row["position"])

    async def save(self, position: int) -> None:
        """Called once the events up to `position` are on the bus."""
        self._position = position
        offset = self._bus.end(self._topic)
        if offset - self._marked_at < self._every:
            return
        # Marks before the last one every consumer is past are never started from again.
        committed = self._bus.committed_by_all(self._topic)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO outbox_marks (relay, position, bus_offset) VALUES ($1, $2, $3)"
                " ON CONFLICT DO NOTHING",
                self._relay, position, offset,
            )  # fmt: skip
            await conn.execute(
                "DELETE FROM outbox_marks WHERE relay = $1 AND bus_offset < (SELECT"
                " max(bus_offset) FROM outbox_marks WHERE relay = $1 AND bus_offset <= $2)",
                self._relay, offset if committed is None else committed,
            )  # fmt: skip
        self._marked_at = offset
