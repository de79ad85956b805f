"""Checkpoints on a schedule: each service's log signed every N minutes when it moved, and
every signed checkpoint published on `accord.audit.v1`.

What is due comes from the database (the newest stored checkpoint's instant), so a restart
resumes the schedule where it was; a position is signed once (the checkpoints' key); one
replica per service signs and publishes at a time (a PostgreSQL advisory lock, as the relay's).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.audit import event, log, store
from shared.audit.checkpoint import Checkpoint, KeptCheckpoint
from shared.audit.keys import signing_key
from shared.bus import Publisher
from shared.schemas.registry import topic_for
from shared.settings import Settings
from shared.shutdown import within

logger = logging.getLogger(__name__)

TOPIC = topic_for("audit")
Clock = Callable[[], datetime]
# The longest wait between two looks at the logs: a schedule of hours still publishes soon.
_LONGEST_POLL_SECONDS = 30.0


def _now() -> datetime:
    return datetime.now(UTC)


class CheckpointSchedule:
    """Signs and publishes the checkpoints of the named services' logs."""

    def __init__(
        self,
        services: Sequence[str],
        settings: Settings,
        publisher: Publisher,
        *,
        clock: Clock = _now,
    ) -> None:
        self.services = tuple(services)
        self.period = timedelta(minutes=settings.audit_checkpoint_minutes)
        self.publisher = publisher
        self.clock = clock
        self._settings = settings
        self._key: Ed25519PrivateKey | None = None
        self._prepared: set[str] = set()
        # A bus that forgets what it carried (in process): the position published through, in
        # this process; from 0, so every stored checkpoint goes out again, in order.
        self._published: dict[str, int] = {}
        self.signed = 0
        self.sent = 0
        # True while another replica holds a service's lock and this one waits to take over.
        self.standby = False
        self.last_error = ""

    @property
    def poll_seconds(self) -> float:
        return max(0.05, min(_LONGEST_POLL_SECONDS, self.period.total_seconds() / 4))

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self._settings.database_url)

    def sign_due(self, services: Sequence[str] | None = None) -> list[KeptCheckpoint]:
        """Sign each service whose log moved since its newest checkpoint, once a period has
        passed since that one was signed (blocking: run it off the event loop)."""
        signed: list[KeptCheckpoint] = []
        now = self.clock()
        with self._connect() as conn:
            for service in self.services if services is None else services:
                if not self._prepare(conn, service):
                    continue
                latest = store.latest_signed(conn, service)
                if latest is not None and now < latest.issued_at + self.period:
                    continue
                covered = latest.last_position if latest else 0
                if store.last_position(conn, service) <= covered:
                    continue  # idle: nothing new to sign
                kept = store.checkpoint(conn, service, self._signing_key(), now=now)
                if kept is not None:
                    signed.append(kept)
                    self.signed += 1
                    c = kept.checkpoint
                    logger.info(
                        "signed %s's log: %d events to position %d", service, c.size,
                        c.last_position,
                    )  # fmt: skip
        return signed

    def _prepare(self, conn: psycopg.Connection[Any], service: str) -> bool:
        """Whether the service has a log; its checkpoints' table made current, once."""
        if service in self._prepared:
            return True
        schema, table = log.events_table(service)
        if not log.exists(conn, schema, table):
            return False
        store.create_table(conn, schema)
        conn.commit()
        self._prepared.add(service)
        return True

    def _signing_key(self) -> Ed25519PrivateKey:
        if self._key is None:
            self._key = signing_key(self._settings)
        return self._key

    def _pending(self, service: str) -> list[Checkpoint]:
        with self._connect() as conn:
            if not self._prepare(conn, service):
                return []
            after = None if self.publisher.durable else self._published.get(service, 0)
            return store.unpublished(conn, service, after=after)

    def _mark(self, service: str, through: int) -> None:
        with self._connect() as conn:
            store.mark_published(conn, service, through)

    async def publish(self, services: Sequence[str] | None = None) -> int:
        """Publish every checkpoint not yet published, oldest first; a crash between publishing
        and marking repeats one, under the same ce_id."""
        sent = 0
        for service in self.services if services is None else services:
            pending = await asyncio.to_thread(self._pending, service)
            if not pending:
                continue
            await self.publisher.publish(TOPIC, [event.envelope(k) for k in pending])
            through = pending[-1].last_position
            if self.publisher.durable:
                await asyncio.to_thread(self._mark, service, through)
            else:
                self._published[service] = through
            sent += len(pending)
        self.sent += sent
        return sent

    async def step(self, services: Sequence[str] | None = None) -> None:
        """Sign what is due, then publish what is not yet published."""
        await asyncio.to_thread(self.sign_due, services)
        await self.publish(services)

    async def run(self) -> None:
        """Until cancelled: take each service's lock when free, then sign and publish for the
        services held, every poll."""
        held: list[str] = []
        async with await psycopg.AsyncConnection.connect(
            self._settings.database_url, autocommit=True
        ) as leader:
            while True:
                for service in self.services:
                    if service not in held and await _try_lock(leader, service):
                        held.append(service)
                self.standby = len(held) < len(self.services)
                try:
                    if held:
                        await self.step(held)
                    self.last_error = ""
                except Exception as error:  # a database or broker away: try again next poll
                    self.last_error = str(error)
                    logger.warning("checkpoint schedule: %s", error)
                    with contextlib.suppress(Exception):
                        await self.publisher.reset()
                await asyncio.sleep(self.poll_seconds)


async def _try_lock(conn: psycopg.AsyncConnection[Any], service: str) -> bool:
    """The session lock that makes this replica the one signing the service's checkpoints."""
    cursor = await conn.execute(
        "SELECT pg_try_advisory_lock(hashtext(%s))", (f"accord-checkpoints:{service}",)
    )
    row = await cursor.fetchone()
    return bool(row and row[0])


@contextlib.asynccontextmanager
async def running(
    services: Sequence[str], settings: Settings, publisher: Publisher
) -> AsyncIterator[CheckpointSchedule | None]:
    """The schedule, running while inside; None when it is off (no minutes, no database)."""
    if not settings.audit_checkpoint_minutes or settings.database_url in ("", "memory"):
        yield None
        return
    schedule = CheckpointSchedule(services, settings, publisher)
    await publisher.start()
    task = asyncio.create_task(schedule.run(), name="checkpoint-schedule")
    try:
        yield schedule
    finally:
        task.cancel()
        await within("checkpoint schedule", asyncio.gather(task, return_exceptions=True))
        await within("checkpoint publisher", publisher.stop())
