"""A notice is queued once per source event, recipient and channel, however often it is asked."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.notifications.application import Notifications
from services.notifications.errors import AlreadyDelivered, UnknownNotice
from services.notifications.idempotency import digest_key, idempotency_key, notice_id_of
from services.notifications.notice import NoticeStatus
from services.notifications.notice_set import NoticeState
from services.notifications.outcomes import NoticeRef
from services.notifications.planner import plan
from services.notifications.policies import Trigger
from services.notifications.preferences import Channel
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


def plans_for(event_id: str = "event-1"):
    source = replace(expectation_proposed(), id=event_id)
    return plan(source, SNAPSHOT, policy(Trigger.EXPECTATION_PROPOSED), {}, email_enabled=True)


def test_the_key_is_the_source_event_the_recipient_and_the_channel() -> None:
    (li, _) = plans_for("event-1")
    assert li.key == idempotency_key("event-1", LI, "email") == f"event-1:{LI}:email"
    assert li.notice_id == notice_id_of(li.key)


def test_the_same_key_always_names_the_same_notice_and_another_key_another() -> None:
    assert notice_id_of("e:li:email") == notice_id_of("e:li:email")
    assert notice_id_of("e:li:email") != notice_id_of("e:li:webhook")


def test_queueing_the_same_event_twice_queues_its_notices_once() -> None:
    app = Notifications(env=POPO)
    with acting_as("accord-notifications", "system"):
        assert app.queue(plans_for()) == 2
        assert app.queue(plans_for()) == 0  # a redelivered Kafka message, or a replay
    assert len(app.recorder.select_notifications(0, 100)) == 1  # one event for both


def test_one_event_queues_every_notice_of_a_source_and_many_sources_share_one_insert() -> None:
    app = Notifications(env=POPO)
    with acting_as("accord-notifications", "system"):
        assert app.queue([*plans_for("event-1"), *plans_for("event-2")]) == 4
    stored = app.recorder.select_notifications(0, 100)
    assert [n.topic.rsplit(".", 1)[-1] for n in stored] == ["NotificationQueued"] * 2
    _, second = plans_for("event-2")
    assert app.notice(second.notice_id, second.record_id).person_id == second.person_id


def test_a_source_planned_again_differently_keeps_its_first_plan() -> None:
    app = Notifications(env=POPO)
    first, second = plans_for()
    with acting_as("accord-notifications", "system"):
        assert app.queue([first]) == 1
        assert app.queue([first, second]) == 0  # planned once, at that point of the history
    with pytest.raises(UnknownNotice):
        app.notice(second.notice_id, second.record_id)


def test_notices_queued_each_on_its_own_as_before_v2_still_take_every_command() -> None:
    app = Notifications(env=POPO)
    li, amira = plans_for()
    own = [NoticeRef.of(p.notice_id) for p in (li, amira)]
    with acting_as("accord-notifications", "system"):
        assert app.queue([li, amira], each_notice=True) == 2
        assert app.queue([li, amira], each_notice=True) == 0
        assert app.record_failed([own[1]], "HTTP 500", "u", NOW, timedelta(0), 1) == 1
        assert app.record_delivered(own, "u") == 1  # the other is dead-lettered
    with acting_as(AMIRA, "provider_account_manager"):
        app.requeue_notice(amira.notice_id, AMIRA)
    with acting_as(LI, "client_decision_maker"):
        app.acknowledge_notification(li.notice_id, LI)
    assert app.notice(li.notice_id).acknowledged_by == LI
    assert app.notice(amira.notice_id).status is NoticeStatus.RETRYING
    names = [n.topic.rsplit(".", 1)[-1] for n in app.recorder.select_notifications(0, 100)]
    assert names.count("NotificationQueued") == 2  # one aggregate, one event each


def test_a_delivered_notice_is_never_delivered_again() -> None:
    app = Notifications(env=POPO)
    (li, _) = plans_for()
    with acting_as("accord-notifications", "system"):
        app.queue([li])
        assert app.record_delivered([li.ref], "li@h.example") == 1
        # The delivery worker asks again (its table was behind): nothing changes.
        assert app.record_delivered([li.ref], "li@h.example") == 0
    notice = app.notice(li.notice_id, li.record_id)
    assert isinstance(notice, NoticeState)
    with pytest.raises(AlreadyDelivered):
        notice.check_pending()


def test_a_digest_is_known_by_the_notices_it_carries_in_any_order() -> None:
    assert digest_key(["a", "b"]) == digest_key(["b", "a"]) != digest_key(["a", "b", "c"])


def test_each_channel_is_a_notice_of_its_own() -> None:
    (li, _) = plans_for()
    by_webhook = replace(li, channel=Channel.WEBHOOK)
    assert by_webhook.key != li.key and by_webhook.notice_id != li.notice_id
