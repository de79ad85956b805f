"""Failed attempts are recorded with their reason, retried after a backoff, then dead-lettered."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest
from tenacity import RetryCallState, Retrying

from services.notifications.application import _CONFLICT_PAUSE, Notifications
from services.notifications.backoff import retry_delay
from services.notifications.errors import DeadLettered, NotDeadLettered, NotTheRecipient
from services.notifications.notice import NoticeStatus
from services.notifications.outcomes import NoticeRef
from services.notifications.planner import plan
from services.notifications.policies import Trigger
from shared.provenance import acting_as
from tests.unit.notifications.story import (
    AMIRA,
    LI,
    NOW,
    SNAPSHOT,
    expectation_proposed,
    policy,
)

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def queued() -> tuple[Notifications, NoticeRef]:
    app = Notifications(env=POPO)
    plans = plan(
        expectation_proposed(), SNAPSHOT, policy(Trigger.EXPECTATION_PROPOSED), {},
        email_enabled=True,
    )  # fmt: skip
    with acting_as("accord-notifications", "system"):
        app.queue(plans)
    return app, plans[0].ref


def test_a_failed_attempt_is_recorded_with_its_reason_and_retried_later() -> None:
    app, ref = queued()
    with acting_as("accord-notifications", "system"):
        app.record_failed([ref], "webhook answered HTTP 500", "u", NOW, timedelta(5), 3)
    notice = app.notice(ref.notice_id, ref.record_id)
    assert (notice.status, notice.attempts) == (NoticeStatus.RETRYING, 1)
    assert not notice.is_due(NOW) and notice.is_due(NOW + timedelta(5))


def test_the_last_allowed_attempt_dead_letters_the_notice() -> None:
    app, ref = queued()
    with acting_as("accord-notifications", "system"):
        for _ in range(3):
            app.record_failed([ref], "unreachable", "u", NOW, timedelta(0), 3)
        assert app.record_failed([ref], "unreachable", "u", NOW, timedelta(0), 3) == 0
    notice = app.notice(ref.notice_id, ref.record_id)
    assert (notice.status, notice.attempts, notice.is_due(NOW)) == (
        NoticeStatus.DEAD_LETTERED,
        3,
        False,
    )
    with pytest.raises(DeadLettered):
        notice.check_pending()


def test_a_dead_lettered_notice_queued_again_by_hand_is_due_at_once_with_its_attempts() -> None:
    app, ref = queued()
    with acting_as("accord-notifications", "system"):
        for _ in range(3):
            app.record_failed([ref], "unreachable", "u", NOW, timedelta(0), 3)
    with pytest.raises(NotDeadLettered), acting_as(AMIRA, "provider_account_manager"):
        queued_app, fresh = queued()
        queued_app.requeue_notice(
            fresh.notice_id, AMIRA, fresh.record_id
        )  # still being tried: nothing to requeue
    with acting_as(AMIRA, "provider_account_manager"):
        app.requeue_notice(ref.notice_id, AMIRA, ref.record_id)
    notice = app.notice(ref.notice_id, ref.record_id)
    assert (notice.status, notice.is_due(NOW)) == (NoticeStatus.RETRYING, True)
    with acting_as("accord-notifications", "system"):  # three attempts again, numbered on
        for _ in range(2):
            app.record_failed([ref], "still down", "u", NOW, timedelta(0), 3)
        assert app.notice(ref.notice_id, ref.record_id).status is NoticeStatus.RETRYING
        app.record_failed([ref], "still down", "u", NOW, timedelta(0), 3)
    notice = app.notice(ref.notice_id, ref.record_id)
    assert (notice.status, notice.attempts) == (NoticeStatus.DEAD_LETTERED, 6)
    with acting_as(AMIRA, "provider_account_manager"):
        app.requeue_notice(ref.notice_id, AMIRA, ref.record_id)
    with acting_as("accord-notifications", "system"):
        app.record_delivered([ref], "u")
    assert app.notice(ref.notice_id, ref.record_id).status is NoticeStatus.DELIVERED
    with pytest.raises(NotDeadLettered), acting_as(AMIRA, "provider_account_manager"):
        app.requeue_notice(ref.notice_id, AMIRA, ref.record_id)


def test_a_notice_held_for_the_digest_is_not_due_before_it() -> None:
    app = Notifications(env=POPO)
    plans = plan(
        expectation_proposed(), SNAPSHOT, policy(Trigger.EXPECTATION_PROPOSED), {},
        email_enabled=True,
    )  # fmt: skip
    digest_plan = replace(plans[0], digest=True)
    with acting_as("accord-notifications", "system"):
        app.queue([digest_plan], digest_at=NOW + timedelta(hours=3))
    notice = app.notice(digest_plan.notice_id, digest_plan.record_id)
    assert not notice.is_due(NOW) and notice.is_due(NOW + timedelta(hours=3))


def test_only_the_recipient_acknowledges_a_notice_and_only_once() -> None:
    app, ref = queued()
    with acting_as(LI, "client_decision_maker"):
        app.acknowledge_notification(ref.notice_id, LI, ref.record_id)
        again = app.acknowledge_notification(ref.notice_id, LI, ref.record_id)
    assert again.positions == ()
    with pytest.raises(NotTheRecipient), acting_as(AMIRA, "provider_account_manager"):
        app.acknowledge_notification(ref.notice_id, AMIRA, ref.record_id)


@pytest.mark.parametrize("attempt", [1, 2, 3, 4])
def test_the_backoff_doubles_with_each_attempt_plus_some_jitter(attempt: int) -> None:
    delays = [retry_delay(attempt, 2.0, 1000.0).total_seconds() for _ in range(50)]
    floor = 2.0 * 2 ** (attempt - 1)
    assert all(floor <= d <= floor + 2.0 for d in delays)
    assert len(set(delays)) > 1  # jitter: retries of many notices do not come back together


def test_the_backoff_never_exceeds_its_cap() -> None:
    assert retry_delay(30, 2.0, 60.0) == timedelta(seconds=60)


def test_the_jitter_leaves_the_global_random_generator_alone() -> None:
    # Another thread's generator of examples (hypothesis) must not see the service move it.
    before = random.getstate()
    delays = {retry_delay(3, 2.0, 1000.0) for _ in range(20)}
    pauses = {
        _CONFLICT_PAUSE(RetryCallState(Retrying(), fn=None, args=(), kwargs={})) for _ in range(20)
    }
    assert random.getstate() == before
    assert len(delays) > 1 and len(pauses) > 1  # still at random
    assert all(0 <= p <= 0.1 for p in pauses)
