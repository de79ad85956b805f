"""The scheduler: fires the reminders that came due, from the service's own reminders table.

Reminders are events, so a restart loses none: the table is rebuilt from them, and a reminder
due while the service was down fires when it is back. Firing is one transaction (the reminder,
its notices, the next reminder); a reminder that was fired or cancelled meanwhile is left alone.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from services.notifications import reads
from services.notifications.actor import ServiceActor
from services.notifications.digest import next_digest_at
from services.notifications.planner import plan
from services.notifications.policies import Policy, Trigger, default_policies, policy_for
from services.notifications.reminder import ReminderKind
from services.notifications.settings import NotifySettings
from services.notifications.source import SourceEvent
from shared.batches import BatchLoop


def no_longer_wanted(policy: Policy, kind: str) -> bool:
    """The contract turned reminders off (or this kind of reminder) since it was scheduled."""
    if not policy.enabled:
        return True
    if kind == ReminderKind.EVERY:
        return policy.remind_every is None
    return policy.remind_before_due is None


def utc_now() -> datetime:
    return datetime.now(UTC)


class Scheduler:
    def __init__(
        self,
        actor: ServiceActor,
        pool: asyncpg.Pool,
        settings: NotifySettings,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.actor = actor
        self.pool = pool
        self.settings = settings
        # What time it is: what has come due, and when a reminder fired (tests move it).
        self.clock = clock
        self.defaults = default_policies(settings.reminder_every, settings.reminder_before_due)
        # Every interval, whatever it found: reminders fall due with time, not with events.
        self._loop = BatchLoop(
            "notifications scheduler", self.fire_due, batch_size=sys.maxsize,
            idle_seconds=settings.scheduler_interval_seconds,
        )  # fmt: skip

    @property
    def last_error(self) -> str:
        return self._loop.last_error

    async def fire_due(self) -> int:
        """Fire (or, for a decided obligation, cancel) every reminder due now."""
        now = self.clock()
        due = await self.pool.fetch(
            "SELECT reminder_id, contract_id, obligation_id, kind, traceparent FROM reminders"
            " WHERE status = 'scheduled' AND due_at <= $1 ORDER BY due_at LIMIT 100",
            now,
        )
        for row in due:
            await self.fire(
                row["reminder_id"],
                row["contract_id"],
                str(row["obligation_id"]),
                row["kind"],
                row["traceparent"],
            )
        return len(due)

    async def fire(
        self, reminder_id: UUID, contract_id: UUID, obligation_id: str, kind: str, traceparent: str
    ) -> None:
        """Its notices and the next reminder, in the trace it was scheduled in."""
        now = self.clock()
        async with self.pool.acquire() as conn:
            snapshot = await reads.snapshot(conn, contract_id)
            obligation = snapshot.obligations.get(obligation_id)
            if obligation is not None and obligation.decided:
                # Its decision may have come after the dispatcher looked for reminders to stop.
                await self.actor.run(
                    self.actor.app.cancel_reminder, reminder_id,
                    f"the obligation was {obligation.status}",
                )  # fmt: skip
                return
            policy = policy_for(
                Trigger.OBLIGATION_REMINDER,
                self.defaults,
                await reads.changed_policies(conn, contract_id),
            )
            if no_longer_wanted(policy, kind):
                await self.actor.run(
                    self.actor.app.cancel_reminder, reminder_id,
                    "the contract's policy no longer asks for this reminder",
                )  # fmt: skip
                return
            preferences = await reads.preferences(conn, contract_id)
        source = SourceEvent(
            str(reminder_id), "ReminderFired", now, {"obligation_id": obligation_id}
        )
        plans = [
            replace(p, traceparent=traceparent)
            for p in plan(
                source, snapshot, policy, preferences, email_enabled=self.settings.email_enabled
            )
        ]
        await self.actor.run(
            self.actor.app.fire_reminder, reminder_id, plans, now,
            next_digest_at(now, self.settings.digest_hour), causation_id=str(reminder_id),
            each_notice=self.settings.record_each_notice, traceparent=traceparent,
        )  # fmt: skip

    async def run(self) -> None:
        await self._loop.run()
