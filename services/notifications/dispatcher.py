"""The dispatcher: runs what the inbox asks (queue notices, schedule or cancel reminders).

Each command is idempotent by its aggregates' deterministic ids, so a row run twice (a crash
after the command, before the row was removed) changes nothing the second time.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from services.notifications import inbox
from services.notifications.actor import ServiceActor
from services.notifications.digest import next_digest_at
from services.notifications.settings import NotifySettings
from shared.batches import BatchLoop
from shared.database import Connection

log = logging.getLogger(__name__)

# Anything else (a command the rules refuse) would never succeed: it is kept with its reason.
_TRANSIENT = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, ConnectionError, OSError)


# Woken when the contract view queued something; this poll is the safety net.
POLL_SECONDS = 1.0


class Dispatcher:
    def __init__(
        self, actor: ServiceActor, pool: asyncpg.Pool, settings: NotifySettings, *, batch: int = 50
    ) -> None:
        self.actor = actor
        self.pool = pool
        self.settings = settings
        self.batch = batch
        self._loop = BatchLoop(
            "notifications dispatcher", self.dispatch,
            batch_size=batch, idle_seconds=POLL_SECONDS, linger=settings.linger,
        )  # fmt: skip

    def wake(self) -> None:
        """Take the waiting rows now rather than at the next poll."""
        self._loop.wake()

    @property
    def last_error(self) -> str:
        return self._loop.last_error

    async def dispatch(self) -> int:
        """Run the oldest waiting rows, each removed once its command has run."""
        async with self.pool.acquire() as conn, conn.transaction():
            # SKIP LOCKED: a second instance takes other rows rather than wait for these.
            rows = await conn.fetch(
                "SELECT seq, kind, payload, causation_id FROM inbox WHERE failed_reason IS NULL"
                " ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
                self.batch,
            )
            done = await self._queue_together([r for r in rows if r["kind"] == inbox.QUEUE])
            if done:
                await conn.execute("DELETE FROM inbox WHERE seq = ANY($1::bigint[])", done)
            for row in rows:
                if row["seq"] not in done:
                    await self._run(conn, row)
        return len(rows)

    async def _queue_together(self, rows: list[asyncpg.Record]) -> list[int]:
        """Queue the notices of every row at once, one insert for them all; the rows done.

        Should that fail for anything but a lost connection, each row runs on its own, so
        that one the rules refuse keeps its reason and does not hold the others back.
        """
        if len(rows) < 2 or self.settings.record_each_notice:
            return []
        plans = [inbox.decode_plan(p) for r in rows for p in json.loads(r["payload"])["plans"]]
        digest_at = next_digest_at(datetime.now(UTC), self.settings.digest_hour)
        try:
            await self.actor.run(self.actor.app.queue, plans, digest_at)
        except _TRANSIENT:
            raise
        except Exception as error:
            log.info("notifications inbox rows queued one by one: %s", error)
            return []
        return [r["seq"] for r in rows]

    async def _run(self, conn: Connection, row: asyncpg.Record) -> None:
        payload = json.loads(row["payload"])
        try:
            await self.command(row["kind"], payload, row["causation_id"])
        except _TRANSIENT:
            raise
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"
            log.warning("notifications inbox row %s refused: %s", row["seq"], reason)
            await conn.execute(
                "UPDATE inbox SET failed_reason = $2 WHERE seq = $1", row["seq"], reason
            )
            return
        await conn.execute("DELETE FROM inbox WHERE seq = $1", row["seq"])

    async def command(self, kind: str, payload: dict[str, Any], causation_id: str) -> None:
        app = self.actor.app
        now = datetime.now(UTC)
        if kind == inbox.QUEUE:
            plans = [inbox.decode_plan(p) for p in payload["plans"]]
            digest_at = next_digest_at(now, self.settings.digest_hour)
            await self.actor.run(
                app.queue, plans, digest_at, causation_id=causation_id,
                each_notice=self.settings.record_each_notice,
            )  # fmt: skip
        elif kind == inbox.SCHEDULE:
            await self.actor.run(
                app.schedule_reminders,
                UUID(payload["contract_id"]),
                UUID(payload["obligation_id"]),
                datetime.fromisoformat(payload["proposed_at"]),
                date.fromisoformat(payload["due_on"]),
                _seconds(payload["every_seconds"]),
                _seconds(payload["before_due_seconds"]),
                now,
                payload.get("traceparent", ""),
                causation_id=causation_id,
            )
        elif kind == inbox.CANCEL:
            await self.cancel_reminders(payload["obligation_id"], payload["reason"], causation_id)
        else:
            raise ValueError(f"unknown inbox kind {kind!r}")

    async def cancel_reminders(self, obligation_id: str, reason: str, causation_id: str) -> None:
        """Cancel the obligation's pending reminders the tables know of.

        One scheduled a moment ago may not be in the tables yet: the scheduler checks the
        obligation again before firing anything, and cancels it then.
        """
        pending = await self.pool.fetch(
            "SELECT reminder_id FROM reminders WHERE obligation_id = $1 AND status = 'scheduled'",
            obligation_id,
        )
        for row in pending:
            await self.actor.run(
                self.actor.app.cancel_reminder, row["reminder_id"], reason,
                causation_id=causation_id,
            )  # fmt: skip

    async def run(self) -> None:
        await self._loop.run()


def _seconds(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)
