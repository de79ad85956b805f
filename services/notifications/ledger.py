"""The ledger: the service's own events, in log order, into the tables its workers query.

The event store is the truth; these tables are how the workers find what to do (due notices,
due reminders) and how the API lists notices. The ledger reads the service's notification log
as the outbox relay does, and stores how far it got in the same transaction as the changes, so
a crash repeats nothing and loses nothing. Two instances take turns on the position row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from eventsourcing.persistence import Notification

from services.notifications.application import Notifications
from shared.batches import BatchLoop
from shared.envelope import Envelope
from shared.eventstore import StoreExecutor
from shared.pending_writes import PendingWrites, Statements
from shared.relay import envelope_of

log = logging.getLogger(__name__)

SERVICE = "notifications"
LEDGER = "own-events"


class Ledger:
    """Keeps the service's tables up with its own event log."""

    def __init__(
        self,
        app: Notifications,
        executor: StoreExecutor,
        pool: asyncpg.Pool,
        *,
        batch_size: int = 200,
        idle_seconds: float = 0.5,
        on_applied: Callable[[], None] = lambda: None,
        batched: bool = True,
        linger: float = 0.0,
    ) -> None:
        self.app = app
        # A batch's statements grouped into a few executemany calls; off: each event's own.
        self.batched = batched
        self.executor = executor
        self.pool = pool
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.on_applied = on_applied
        self._loop = BatchLoop(
            "notifications ledger", self.catch_up,
            batch_size=batch_size, idle_seconds=idle_seconds, linger=linger,
        )  # fmt: skip

    @property
    def last_error(self) -> str:
        return self._loop.last_error

    def wake(self) -> None:
        self._loop.wake()

    async def start(self) -> None:
        await self.pool.execute(
            "INSERT INTO ledger_position VALUES ($1, 0) ON CONFLICT DO NOTHING", LEDGER
        )

    async def catch_up(self) -> int:
        """Apply the next batch of the log; how many events it applied."""
        async with self.pool.acquire() as conn, conn.transaction():
            position = await conn.fetchval(
                "SELECT position FROM ledger_position WHERE ledger = $1 FOR UPDATE", LEDGER
            )
            notifications: Sequence[Notification] = await self.executor.run(
                self.app.recorder.select_notifications,
                position,
                self.batch_size,
                inclusive_of_start=False,
            )
            if self.batched:
                writes = PendingWrites(conn)
                for notification in notifications:
                    envelope = envelope_of(self.app, SERVICE, notification)
                    writes.begin(order_key(envelope))
                    await apply(writes, envelope)
                    writes.end()
                await writes.flush()
            else:
                for notification in notifications:
                    await apply(conn, envelope_of(self.app, SERVICE, notification))
            if notifications:
                await conn.execute(
                    "UPDATE ledger_position SET position = $2 WHERE ledger = $1",
                    LEDGER,
                    notifications[-1].id,
                )
        if notifications:
            self.on_applied()
        return len(notifications)

    async def run(self) -> None:
        await self._loop.run()


def order_key(envelope: Envelope) -> str:
    """The rows an event writes, whose order its batch keeps: a notice record's (its set's,
    or its own), a reminder's, or a contract's policy on a trigger and a person's preferences
    (each change is an aggregate of its own; the latest one stands)."""
    d = envelope.data
    if envelope.spec.name == "PolicyChanged":
        return f"policy:{d['contract_id']}:{d['trigger']}"
    if envelope.spec.name == "PreferencesChanged":
        return f"preferences:{d['contract_id']}:{d['person_id']}"
    return f"record:{envelope.subject}"


async def apply(conn: Statements, envelope: Envelope) -> None:
    """One of the service's own events into its tables."""
    name = envelope.spec.name
    d = envelope.data
    if envelope.spec.version == 2:
        await _apply_set(conn, envelope)
    elif name == "NotificationQueued":
        await conn.execute(
            "INSERT INTO notices (notice_id, key, contract_id, source_event_id, trigger,"
            " person_id, channel, subject, body, data, urgent, not_before, status,"
            " next_attempt_at, queued_at, traceparent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
            " $9, $10::jsonb, $11, $12::timestamptz, 'queued', coalesce($12::timestamptz, $13),"
            " $13, $14) ON CONFLICT (notice_id) DO NOTHING",
            d["notice_id"], d["key"], d["contract_id"], d["source_event_id"], d["trigger"],
            d["person_id"], d["channel"], d["subject"], d["text"], json.dumps(d["data"]),
            d["urgent"], _time(d["not_before"]), envelope.time, envelope.traceparent,
        )  # fmt: skip
    elif name == "NotificationDelivered":
        await conn.executemany(DELIVERED, [_delivered(d, envelope.time)])
    elif name == "NotificationFailed":
        await conn.executemany(FAILED, [_failed(d)])
    elif name == "NotificationRequeued":
        await conn.execute(
            "UPDATE notices SET status = 'retrying', next_attempt_at = $2, claimed_until = NULL"
            " WHERE notice_id = $1",
            d["notice_id"], envelope.time,
        )  # fmt: skip
    elif name == "NotificationAcknowledged":
        await conn.execute(
            "UPDATE notices SET acknowledged_at = $2 WHERE notice_id = $1",
            d["notice_id"], envelope.time,
        )  # fmt: skip
    elif name == "ReminderScheduled":
        await conn.execute(
            "INSERT INTO reminders (reminder_id, contract_id, obligation_id, kind, sequence,"
            " due_at, status, traceparent) VALUES ($1, $2, $3, $4, $5, $6, 'scheduled', $7)"
            " ON CONFLICT (reminder_id) DO NOTHING",
            d["reminder_id"], d["contract_id"], d["obligation_id"], d["kind"], d["sequence"],
            _time(d["due_at"]), envelope.traceparent,
        )  # fmt: skip
    elif name == "ReminderFired":
        await conn.execute(
            "UPDATE reminders SET status = 'fired' WHERE reminder_id = $1", d["reminder_id"]
        )
    elif name == "ReminderCancelled":
        await conn.execute(
            "UPDATE reminders SET status = 'cancelled', reason = $2 WHERE reminder_id = $1",
            d["reminder_id"], d["reason"],
        )  # fmt: skip
    elif name == "PolicyChanged":
        await conn.execute(
            "INSERT INTO policies VALUES ($1, $2, $3::jsonb, $4, $5)"
            " ON CONFLICT (contract_id, trigger) DO UPDATE SET policy = excluded.policy,"
            " changed_by = excluded.changed_by, changed_at = excluded.changed_at",
            d["contract_id"], d["trigger"], json.dumps(d["policy"]), d["changed_by"],
            envelope.time,
        )  # fmt: skip
    elif name == "PreferencesChanged":
        await conn.execute(
            "INSERT INTO preferences VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (contract_id, person_id) DO UPDATE SET channel = excluded.channel,"
            " cadence = excluded.cadence, email = excluded.email,"
            " webhook_url = excluded.webhook_url, changed_by = excluded.changed_by,"
            " changed_at = excluded.changed_at",
            d["contract_id"], d["person_id"], d["channel"], d["cadence"], d["email"],
            d["webhook_url"], d["changed_by"], envelope.time,
        )  # fmt: skip


DELIVERED = (
    "UPDATE notices SET status = 'delivered', attempts = $2, address = $3, digest_key = $4,"
    " delivered_at = $5, claimed_until = NULL WHERE notice_id = $1"
)
FAILED = (
    "UPDATE notices SET status = $2, attempts = $3, last_reason = $4, address = $5,"
    " next_attempt_at = coalesce($6::timestamptz, next_attempt_at), claimed_until = NULL"
    " WHERE notice_id = $1"
)


async def _apply_set(conn: Statements, envelope: Envelope) -> None:
    """A NoticeSet's event (v2): one statement for all the notices it names."""
    name = envelope.spec.name
    d = envelope.data
    if name == "NotificationQueued":
        await conn.executemany(
            "INSERT INTO notices (notice_id, key, contract_id, source_event_id, trigger,"
            " person_id, channel, subject, body, data, urgent, not_before, status,"
            " next_attempt_at, queued_at, record_id, traceparent) VALUES ($1, $2, $3, $4, $5,"
            " $6, $7, $8, $9, $10::jsonb, $11, $12::timestamptz, 'queued',"
            " coalesce($12::timestamptz, $13), $13, $14, $15) ON CONFLICT DO NOTHING",
            [_queued(d, n, envelope) for n in d["notices"]],
        )
    elif name == "NotificationDelivered":
        await conn.executemany(DELIVERED, [_delivered(x, envelope.time) for x in d["deliveries"]])
    elif name == "NotificationFailed":
        await conn.executemany(FAILED, [_failed(x) for x in d["failures"]])


def _queued(d: Mapping[str, Any], n: Mapping[str, Any], envelope: Envelope) -> tuple[Any, ...]:
    """One notice of a set as a row of the notices table; the set records it."""
    return (
        n["notice_id"], n["key"], d["contract_id"], d["source_event_id"], d["trigger"],
        n["person_id"], n["channel"], d["subject"], d["text"], json.dumps(d["data"]),
        d["urgent"], _time(n["not_before"]), envelope.time, envelope.subject,
        envelope.traceparent,
    )  # fmt: skip


def _delivered(d: Mapping[str, Any], at: datetime) -> tuple[Any, ...]:
    return (d["notice_id"], d["attempt"], d["address"], d["digest_key"], at)


def _failed(d: Mapping[str, Any]) -> tuple[Any, ...]:
    status = "dead_lettered" if d["dead_lettered"] else "retrying"
    return (
        d["notice_id"], status, d["attempt"], d["reason"], d["address"],
        _time(d["next_attempt_at"]),
    )  # fmt: skip


def _time(value: str | None) -> datetime | None:
    """A published RFC 3339 time back into a datetime for asyncpg (None stays None)."""
    return None if value is None else datetime.fromisoformat(value)
