"""The notifications application: one method per command on notices, reminders and choices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from services.notifications.changes import PolicyChange, PreferenceChange
from services.notifications.errors import UnknownNotice, UnknownReminder
from services.notifications.notice import Notice
from services.notifications.planner import NoticePlan
from services.notifications.policies import Policy, Trigger
from services.notifications.preferences import Preference
from services.notifications.reminder import Reminder, first_reminders
from shared.commands import CommandResult, command_result


class Notifications(Application[UUID]):
    """Notices and their deliveries, obligation reminders, and each contract's policies."""

    name = "notifications"

    # Notices

    def queue(self, plans: Sequence[NoticePlan], digest_at: datetime | None = None) -> int:
        """Queue each planned notice once; one that is already queued is left as it is.

        `digest_at` is when the next daily digest goes out, for notices held for it.
        Answers how many were newly queued.
        """
        notices = [Notice.queue(p, digest_at if p.digest else None) for p in plans]
        if not notices:
            return 0
        try:
            self.save(*notices)  # all at once, in one transaction: the usual case
            return len(notices)
        except IntegrityError:
            pass  # some were queued before (a redelivery): queue the others one by one
        queued = 0
        for plan in plans:
            try:
                self.save(Notice.queue(plan, digest_at if plan.digest else None))
                queued += 1
            except IntegrityError:
                continue  # already queued: the id is the key's, so this is the same notice
        return queued

    def notice(self, notice_id: UUID) -> Notice:
        try:
            notice: Notice = self.repository.get(notice_id)
        except AggregateNotFoundError:
            raise UnknownNotice(notice_id) from None
        return notice

    def due_notices(self, notice_ids: Sequence[UUID], now: datetime) -> list[Notice]:
        """Those of the notices that are still to be sent now, by their own record."""
        return [n for n in (self.notice(i) for i in notice_ids) if n.is_due(now)]

    def record_delivered(
        self, notice_ids: Sequence[UUID], address: str, digest_key: str = ""
    ) -> int:
        """Record that the notices reached their person (together, when a digest carried them)."""
        notices = [n for n in (self.notice(i) for i in notice_ids) if n.pending]
        for notice in notices:
            notice.deliver(address, digest_key)
        self.save(*notices)
        return len(notices)

    def record_failed(
        self,
        notice_ids: Sequence[UUID],
        reason: str,
        address: str,
        now: datetime,
        retry_in: timedelta,
        max_attempts: int,
    ) -> int:
        """Record a failed attempt on each notice; the last allowed attempt dead-letters it."""
        notices = [n for n in (self.notice(i) for i in notice_ids) if n.pending]
        for notice in notices:
            notice.fail(reason, address, now, retry_in, max_attempts)
        self.save(*notices)
        return len(notices)

    def requeue(self, notice_id: UUID, by: str) -> CommandResult:
        """Queue a dead-lettered notice again, once its receiver works."""
        notice = self.notice(notice_id)
        notice.requeue(by)
        return command_result(notice.id, notice.version, self.save(notice))

    def acknowledge(self, notice_id: UUID, by: str) -> CommandResult:
        notice = self.notice(notice_id)
        notice.acknowledge(by)
        return command_result(notice.id, notice.version, self.save(notice))

    # Reminders

    def schedule_reminders(
        self,
        contract_id: UUID,
        obligation_id: UUID,
        proposed_at: datetime,
        due_on: date,
        every: timedelta | None,
        before_due: timedelta | None,
        now: datetime,
    ) -> int:
        """Schedule an obligation's first reminders, once however often this is called."""
        plans = first_reminders(proposed_at, due_on, every, before_due, now)
        reminders = [Reminder.schedule(contract_id, obligation_id, p, every) for p in plans]
        if not reminders:
            return 0
        try:
            self.save(*reminders)
        except IntegrityError:
            return 0  # scheduled before: a redelivered ObligationProposed
        return len(reminders)

    def reminder(self, reminder_id: UUID) -> Reminder:
        try:
            reminder: Reminder = self.repository.get(reminder_id)
        except AggregateNotFoundError:
            raise UnknownReminder(reminder_id) from None
        return reminder

    def fire_reminder(
        self,
        reminder_id: UUID,
        plans: Sequence[NoticePlan],
        now: datetime,
        digest_at: datetime | None = None,
    ) -> bool:
        """Fire a due reminder: its notices, and the next reminder, in one transaction.

        False when it is no longer pending (fired by another worker, or cancelled).
        """
        reminder = self.reminder(reminder_id)
        if not reminder.pending:
            return False
        following = reminder.fire(now)
        notices = [Notice.queue(p, digest_at if p.digest else None) for p in plans]
        try:
            self.save(reminder, following, *notices)
        except IntegrityError:
            return False  # another worker fired it first
        return True

    def cancel_reminder(self, reminder_id: UUID, reason: str) -> bool:
        reminder = self.reminder(reminder_id)
        if not reminder.cancel(reason):
            return False
        try:
            self.save(reminder)
        except IntegrityError:
            return False  # fired or cancelled meanwhile; the scheduler looks again
        return True

    # Policies and preferences

    def change_policy(
        self, contract_id: UUID, trigger: Trigger, policy: Policy, by: str
    ) -> CommandResult:
        change = PolicyChange(
            contract_id=contract_id,
            trigger=trigger.value,
            policy=_json(policy),
            changed_by=by,
        )
        return command_result(change.id, change.version, self.save(change))

    def change_preferences(
        self, contract_id: UUID, person_id: str, preference: Preference, by: str
    ) -> CommandResult:
        change = PreferenceChange(
            contract_id=contract_id,
            person_id=person_id,
            channel=preference.channel.value,
            cadence=preference.cadence.value,
            email=preference.email,
            webhook_url=preference.webhook_url,
            changed_by=by,
        )
        return command_result(change.id, change.version, self.save(change))


def _json(policy: Policy) -> dict[str, Any]:
    """The policy as JSON data (durations as ISO 8601), as it is stored and published."""
    data: dict[str, Any] = policy.model_dump(mode="json")
    return data
