"""Reminders of an undecided obligation: scheduled once, fired on time, stopped when decided."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from services.notifications.application import Notifications
from services.notifications.errors import ReminderNotPending, UnknownReminder
from services.notifications.idempotency import reminder_id_of
from services.notifications.planner import plan
from services.notifications.policies import Trigger
from services.notifications.reminder import ReminderKind, ReminderStatus, first_reminders, next_time
from services.notifications.source import SourceEvent
from shared.provenance import acting_as
from tests.unit.notifications.story import CONTRACT, NOW, OBLIGATION, SNAPSHOT, policy

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
EVERY = timedelta(days=3)
BEFORE = timedelta(days=1)
DUE_ON = date(2026, 3, 15)


def scheduled() -> Notifications:
    app = Notifications(env=POPO)
    with acting_as("accord-notifications", "system"):
        app.schedule_reminders(CONTRACT, UUID(OBLIGATION), NOW, DUE_ON, EVERY, BEFORE, NOW)
    return app


def every(sequence: int) -> UUID:
    return reminder_id_of(OBLIGATION, "every", sequence)


def reminder_plans(reminder_id: UUID, at: datetime):
    source = SourceEvent(str(reminder_id), "ReminderFired", at, {"obligation_id": OBLIGATION})
    return plan(source, SNAPSHOT, policy(Trigger.OBLIGATION_REMINDER), {}, email_enabled=True)


def test_an_obligation_is_reminded_every_n_days_and_once_the_day_before_it_is_due() -> None:
    plans = first_reminders(NOW, DUE_ON, EVERY, BEFORE, NOW)
    assert [(p.kind, p.due_at) for p in plans] == [
        (ReminderKind.EVERY, NOW + EVERY),
        (ReminderKind.BEFORE_DUE, datetime(2026, 3, 14, tzinfo=UTC)),
    ]


def test_no_reminder_before_a_due_date_that_has_passed() -> None:
    plans = first_reminders(NOW, date(2026, 3, 1), EVERY, BEFORE, NOW)
    assert [p.kind for p in plans] == [ReminderKind.EVERY]


def test_scheduling_twice_schedules_once() -> None:
    app = scheduled()
    with acting_as("accord-notifications", "system"):
        again = app.schedule_reminders(CONTRACT, UUID(OBLIGATION), NOW, DUE_ON, EVERY, BEFORE, NOW)
    assert again == 0
    assert app.reminder(every(1)).status is ReminderStatus.SCHEDULED


def test_firing_a_reminder_queues_its_notices_and_schedules_the_next_one() -> None:
    app = scheduled()
    at = NOW + EVERY
    with acting_as("accord-notifications", "system"):
        assert app.fire_reminder(every(1), reminder_plans(every(1), at), at)
    assert app.reminder(every(1)).status is ReminderStatus.FIRED
    following = app.reminder(every(2))
    assert (following.status, following.due_at) == (ReminderStatus.SCHEDULED, NOW + 2 * EVERY)
    first = reminder_plans(every(1), at)[0]
    notice = app.notice(first.notice_id, first.record_id)
    assert notice.trigger == "obligation_reminder" and notice.source_event_id == str(every(1))


def test_a_reminder_fires_once() -> None:
    app = scheduled()
    at = NOW + EVERY
    with acting_as("accord-notifications", "system"):
        assert app.fire_reminder(every(1), reminder_plans(every(1), at), at)
        assert not app.fire_reminder(every(1), reminder_plans(every(1), at), at)
    with pytest.raises(ReminderNotPending):
        app.reminder(every(1)).fire(at)


def test_a_cancelled_reminder_never_fires() -> None:
    app = scheduled()
    with acting_as("accord-notifications", "system"):
        assert app.cancel_reminder(every(1), "the obligation was accepted")
        assert not app.cancel_reminder(every(1), "the obligation was accepted")
        assert not app.fire_reminder(every(1), reminder_plans(every(1), NOW), NOW + EVERY)
    assert app.reminder(every(1)).status is ReminderStatus.CANCELLED
    with pytest.raises(UnknownReminder):  # the next one was never scheduled
        app.reminder(every(2))


def test_after_a_long_outage_one_reminder_follows_not_a_backlog() -> None:
    later = NOW + 10 * EVERY
    assert next_time(NOW, EVERY, later) == later + EVERY
    assert next_time(NOW, EVERY, NOW) == NOW + EVERY
