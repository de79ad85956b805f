"""The notifications application: one method per command on notices, reminders and choices."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import tenacity
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.notifications.backoff import full_jitter
from services.notifications.changes import PolicyChange, PreferenceChange
from services.notifications.errors import NoticeBusy, UnknownNotice, UnknownReminder
from services.notifications.notice import Notice
from services.notifications.notice_set import NoticeSet, NoticeState, by_source
from services.notifications.outcomes import Delivered, Failed, NoticeRef, Outcome
from services.notifications.planner import NoticePlan
from services.notifications.policies import Policy, Trigger
from services.notifications.preferences import Preference
from services.notifications.reminder import Reminder, first_reminders
from shared.commands.result import CommandResult, command_result
from shared.eventstore import AccordApplication

T = TypeVar("T")

# How often a command is tried on a record that keeps changing under it (everyone told of one
# event acknowledging at once, while the delivery worker records attempts on the same set),
# and how long it pauses before each new try: a few milliseconds, at random, so that the
# writers that collided do not collide again at once.
_CONFLICT_ATTEMPTS = 10
_CONFLICT_PAUSE = full_jitter(multiplier=0.005, max=0.1)


class Notifications(AccordApplication):
    """Notices and their deliveries, obligation reminders, and each contract's policies."""

    name = "notifications"

    # Notices

    def queue(
        self,
        plans: Sequence[NoticePlan],
        digest_at: datetime | None = None,
        *,
        each_notice: bool = False,
    ) -> int:
        """Queue each planned notice once; a source whose notices are queued is left as it is.

        One NoticeSet per source event, all saved in one transaction; `each_notice` records
        each notice as an aggregate of its own, as before v2. `digest_at` is when the next
        daily digest goes out, for notices held for it. Answers how many were newly queued.
        """
        if each_notice:
            return self._queue_each(plans, digest_at)
        groups = list(by_source(plans).values())
        if not groups:
            return 0
        try:
            self.save(*(NoticeSet.queue(g, digest_at) for g in groups))  # the usual case
            return len(plans)
        except IntegrityError:
            pass  # some were queued before (a redelivery): queue the others one by one
        queued = 0
        for group in groups:
            try:
                self.save(NoticeSet.queue(group, digest_at))
                queued += len(group)
            except IntegrityError:
                continue  # its source's notices are queued: the id is the source's
        return queued

    def _queue_each(self, plans: Sequence[NoticePlan], digest_at: datetime | None) -> int:
        notices = [Notice.queue(p, digest_at if p.digest else None) for p in plans]
        if not notices:
            return 0
        try:
            self.save(*notices)
            return len(notices)
        except IntegrityError:
            pass
        queued = 0
        for plan in plans:
            try:
                self.save(Notice.queue(plan, digest_at if plan.digest else None))
                queued += 1
            except IntegrityError:
                continue  # already queued: the id is the key's, so this is the same notice
        return queued

    def notice(self, notice_id: UUID, record_id: UUID | None = None) -> Notice | NoticeState:
        """The notice as its record says; `record_id` names its NoticeSet (none: its own)."""
        ref = NoticeRef.of(notice_id, record_id)
        try:
            record = self._record_of(ref.record_id)
        except UnknownNotice:
            raise UnknownNotice(notice_id) from None
        found = record.notice(ref.notice_id) if isinstance(record, NoticeSet) else record
        if found is None:
            raise UnknownNotice(notice_id)
        return found

    def _record_of(self, record_id: UUID) -> Notice | NoticeSet:
        """The record of notices with this id; any other of the service's records (a reminder,
        a policy or preference change) is no notice: the ids that commands take are anyone's."""
        try:
            record: object = self.repository.get(record_id)
        except AggregateNotFoundError:
            raise UnknownNotice(record_id) from None
        if not isinstance(record, Notice | NoticeSet):
            raise UnknownNotice(record_id)
        return record

    def due_notices(self, refs: Sequence[NoticeRef], now: datetime) -> list[NoticeRef]:
        """Those of the notices that are still to be sent now, by their own records."""
        records = {r: self._record_of(r) for r in dict.fromkeys(ref.record_id for ref in refs)}
        due = []
        for ref in refs:
            record = records[ref.record_id]
            notice = record.notice(ref.notice_id) if isinstance(record, NoticeSet) else record
            if notice is not None and notice.is_due(now):
                due.append(ref)
        return due

    def record_outcomes(self, outcomes: Sequence[Outcome]) -> int:
        """Record what became of each attempt, every record's events in one transaction.

        A record changed meanwhile (its recipient acknowledged another of its notices) is read
        again and the outcomes applied again: only pending notices take one, so none twice.
        Answers how many notices had an outcome recorded.
        """

        def attempt() -> int:
            ids = dict.fromkeys(o.ref.record_id for o in outcomes)
            records = {r: self._record_of(r) for r in ids}
            recorded = 0
            for record_id, record in records.items():
                mine = [o for o in outcomes if o.ref.record_id == record_id]
                recorded += (
                    record.record(mine)
                    if isinstance(record, NoticeSet)
                    else _record_own(record, mine)
                )
            self.save(*records.values())
            return recorded

        # Past the last try it raises: the worker's claim expires, and it tries again later.
        return _until_saved(attempt)

    def record_delivered(
        self, refs: Sequence[NoticeRef], address: str, digest_key: str = ""
    ) -> int:
        """Record that the notices reached their person (together, when a digest carried them)."""
        return self.record_outcomes([Delivered(r, address, digest_key) for r in refs])

    def record_failed(
        self,
        refs: Sequence[NoticeRef],
        reason: str,
        address: str,
        now: datetime,
        retry_in: timedelta,
        max_attempts: int,
    ) -> int:
        """Record a failed attempt on each notice; the last allowed attempt dead-letters it."""
        return self.record_outcomes(
            [Failed(r, reason, address, now, retry_in, max_attempts) for r in refs]
        )

    def requeue_notice(
        self, notice_id: UUID, by: str, record_id: UUID | None = None
    ) -> CommandResult:
        """Queue a dead-lettered notice again, once its receiver works."""
        return self._on_notice(NoticeRef.of(notice_id, record_id), lambda n: n.requeue(by))

    def acknowledge_notification(
        self, notice_id: UUID, by: str, record_id: UUID | None = None
    ) -> CommandResult:
        return self._on_notice(NoticeRef.of(notice_id, record_id), lambda n: n.acknowledge(by))

    def _on_notice(self, ref: NoticeRef, change: Callable[[Any], object]) -> CommandResult:
        """A person's command on one notice; its set may have changed meanwhile (a delivery
        recorded, another of its people acknowledging), so it is read again then. A set that
        keeps changing past every try is a CONFLICT the caller may send again, not a fault."""

        def attempt() -> CommandResult:
            record = self._record_of(ref.record_id)
            if isinstance(record, NoticeSet):
                if record.notice(ref.notice_id) is None:
                    raise UnknownNotice(ref.notice_id)
                change(_OneOf(record, ref.notice_id))
            else:
                change(record)
            return command_result(record.id, record.version, self.save(record))

        try:
            return _until_saved(attempt)
        except IntegrityError:
            raise NoticeBusy(ref.notice_id) from None

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
        traceparent: str = "",
    ) -> int:
        """Schedule an obligation's first reminders, once however often this is called, in the
        trace of the obligation's proposal (`traceparent`; "": the command's own)."""
        plans = first_reminders(proposed_at, due_on, every, before_due, now)
        reminders = [Reminder.schedule(contract_id, obligation_id, p, every) for p in plans]
        if not reminders:
            return 0
        for reminder in reminders:
            reminder.carry_trace(traceparent)
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
        *,
        each_notice: bool = False,
        traceparent: str = "",
    ) -> bool:
        """Fire a due reminder: its notices, and the next reminder, in one transaction, in the
        trace it was scheduled in (`traceparent`, the obligation's proposal's; its plans carry
        it too).

        False when it is no longer pending (fired by another worker, or cancelled).
        """
        reminder = self.reminder(reminder_id)
        if not reminder.pending:
            return False
        following = reminder.fire(now)
        reminder.carry_trace(traceparent)
        if following is not None:
            following.carry_trace(traceparent)
        if each_notice:
            notices: list[Notice | NoticeSet] = [
                Notice.queue(p, digest_at if p.digest else None) for p in plans
            ]
        else:
            notices = [NoticeSet.queue(g, digest_at) for g in by_source(plans).values()]
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

    def change_notification_policy(
        self, contract_id: UUID, trigger: Trigger, policy: Policy, by: str
    ) -> CommandResult:
        change = PolicyChange(
            contract_id=contract_id,
            trigger=trigger.value,
            policy=_json(policy),
            changed_by=by,
        )
        return command_result(change.id, change.version, self.save(change))

    def change_notification_preferences(
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


def _until_saved(attempt: Callable[[], T]) -> T:
    """Run `attempt` (read a record, change it, save it) again while its record changed under
    it, after a short random pause; the last try's IntegrityError is raised."""
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(IntegrityError),
        stop=tenacity.stop_after_attempt(_CONFLICT_ATTEMPTS),
        wait=_CONFLICT_PAUSE,
        reraise=True,
    )
    return retrying(attempt)


def _json(policy: Policy) -> dict[str, Any]:
    """The policy as JSON data (durations as ISO 8601), as it is stored and published."""
    data: dict[str, Any] = policy.model_dump(mode="json")
    return data


def _record_own(notice: Notice, outcomes: Sequence[Outcome]) -> int:
    """Outcomes on a notice queued before v2, which records them itself, one event each."""
    recorded = 0
    for outcome in outcomes:
        if not notice.pending:
            continue
        if isinstance(outcome, Delivered):
            notice.deliver(outcome.address, outcome.digest_key)
        else:
            notice.fail(
                outcome.reason, outcome.address, outcome.now, outcome.retry_in,
                outcome.max_attempts,
            )  # fmt: skip
        recorded += 1
    return recorded


class _OneOf:
    """One notice of a set, taking the commands a Notice takes."""

    def __init__(self, record: NoticeSet, notice_id: UUID) -> None:
        self.record = record
        self.notice_id = notice_id

    def requeue(self, by: str) -> None:
        self.record.requeue(self.notice_id, by)

    def acknowledge(self, by: str) -> bool:
        return self.record.acknowledge(self.notice_id, by)
