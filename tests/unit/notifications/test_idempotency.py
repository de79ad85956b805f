"""A notice is queued once per source event, recipient and channel, however often it is asked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.notifications.application import Notifications
from services.notifications.errors import AlreadyDelivered
from services.notifications.idempotency import digest_key, idempotency_key, notice_id_of
from services.notifications.planner import plan
from services.notifications.policies import Trigger
from services.notifications.preferences import Channel
from shared.provenance import acting_as
from tests.unit.notifications.story import LI, SNAPSHOT, expectation_proposed, policy

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
    assert app.recorder.max_notification_id() == 2


def test_a_partly_queued_event_queues_only_what_is_missing() -> None:
    app = Notifications(env=POPO)
    first, second = plans_for()
    with acting_as("accord-notifications", "system"):
        assert app.queue([first]) == 1
        assert app.queue([first, second]) == 1
    assert app.notice(second.notice_id).person_id == second.person_id


def test_a_delivered_notice_is_never_delivered_again() -> None:
    app = Notifications(env=POPO)
    (li, _) = plans_for()
    with acting_as("accord-notifications", "system"):
        app.queue([li])
        assert app.record_delivered([li.notice_id], "li@h.example") == 1
        # The delivery worker asks again (its table was behind): nothing changes.
        assert app.record_delivered([li.notice_id], "li@h.example") == 0
    notice = app.notice(li.notice_id)
    with pytest.raises(AlreadyDelivered):
        notice.deliver("li@h.example")


def test_a_digest_is_known_by_the_notices_it_carries_in_any_order() -> None:
    assert digest_key(["a", "b"]) == digest_key(["b", "a"]) != digest_key(["a", "b", "c"])


def test_each_channel_is_a_notice_of_its_own() -> None:
    (li, _) = plans_for()
    by_webhook = replace(li, channel=Channel.WEBHOOK)
    assert by_webhook.key != li.key and by_webhook.notice_id != li.notice_id
