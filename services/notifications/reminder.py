"""The Reminder aggregate: one reminder of an undecided obligation, due at a time.

Reminders are events, so they survive restarts: the scheduler finds the due ones in the
service's own table, and firing one schedules the next in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from services.notifications.errors import ReminderNotPending
from services.notifications.idempotency import reminder_id_of
from shared.eventstore import AccordAggregate


class ReminderKind(StrEnum):
    # Again and again, every so often, until the obligation is decided.
    EVERY = "every"
    # Once, some time before the obligation is due.
    BEFORE_DUE = "before_due"


class ReminderStatus(StrEnum):
    SCHEDULED = "scheduled"
    FIRED = "fired"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Plan:
    """A reminder to schedule: which, and when."""

    kind: ReminderKind
    sequence: int
    due_at: datetime


def first_reminders(
    proposed_at: datetime,
    due_on: date,
    every: timedelta | None,
    before_due: timedelta | None,
    now: datetime,
) -> list[Plan]:
    """The reminders an obligation starts with; one before its due date only if still ahead."""
    plans = []
    if every is not None:
        plans.append(Plan(ReminderKind.EVERY, 1, next_time(proposed_at, every, now)))
    if before_due is not None:
        due_at = datetime.combine(due_on, time(0, tzinfo=UTC)) - before_due
        if due_at > now:
            plans.append(Plan(ReminderKind.BEFORE_DUE, 1, due_at))
    return plans


def next_time(after: datetime, every: timedelta, now: datetime) -> datetime:
    """`every` after the last one; after a long outage, one reminder now-ish, not a backlog."""
    due = after + every
    return due if due > now else now + every


class Reminder(AccordAggregate):
    """Its id is a function of its obligation, kind and sequence: scheduled once, fired once."""

    @staticmethod
    def create_id(reminder_id: UUID) -> UUID:
        return reminder_id

    @classmethod
    def schedule(
        cls,
        contract_id: UUID,
        obligation_id: UUID,
        plan: Plan,
        repeat_every: timedelta | None,
    ) -> Reminder:
        return cls(
            reminder_id=reminder_id_of(str(obligation_id), plan.kind.value, plan.sequence),
            contract_id=contract_id,
            obligation_id=obligation_id,
            kind=plan.kind.value,
            sequence=plan.sequence,
            due_at=plan.due_at,
            repeat_every_seconds=(
                repeat_every.total_seconds()
                if repeat_every and plan.kind is ReminderKind.EVERY
                else None
            ),
        )

    @event("ReminderScheduled")
    def __init__(
        self,
        reminder_id: UUID,
        contract_id: UUID,
        obligation_id: UUID,
        kind: str,
        sequence: int,
        due_at: datetime,
        repeat_every_seconds: float | None,
    ) -> None:
        self._contract_id = contract_id
        self.obligation_id = obligation_id
        self.kind = ReminderKind(kind)
        self.sequence = sequence
        self.due_at = due_at
        self.repeat_every_seconds = repeat_every_seconds
        self.status = ReminderStatus.SCHEDULED

    @property
    def contract_id(self) -> UUID:
        return self._contract_id

    @property
    def pending(self) -> bool:
        return self.status is ReminderStatus.SCHEDULED

    def fire(self, now: datetime) -> Reminder | None:
        """Record that it went out; a repeating reminder answers the next one to schedule."""
        if not self.pending:
            raise ReminderNotPending(self.id, self.status.value)
        self._fired(reminder_id=self.id, obligation_id=self.obligation_id, sequence=self.sequence)
        if self.repeat_every_seconds is None:
            return None
        every = timedelta(seconds=self.repeat_every_seconds)
        following = Plan(self.kind, self.sequence + 1, next_time(self.due_at, every, now))
        return Reminder.schedule(self.contract_id, self.obligation_id, following, every)

    @event("ReminderFired")
    def _fired(self, reminder_id: UUID, obligation_id: UUID, sequence: int) -> None:
        self.status = ReminderStatus.FIRED

    def cancel(self, reason: str) -> bool:
        """Stop it (the obligation was decided); False when it had already fired or stopped."""
        if not self.pending:
            return False
        self._cancelled(reminder_id=self.id, obligation_id=self.obligation_id, reason=reason)
        return True

    @event("ReminderCancelled")
    def _cancelled(self, reminder_id: UUID, obligation_id: UUID, reason: str) -> None:
        self.status = ReminderStatus.CANCELLED
