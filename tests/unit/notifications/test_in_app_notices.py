"""An in-app notice is delivered by being stored: the app lists it to its person. So its set
records it delivered in the same save that queues it, and no worker has a send to make."""

from __future__ import annotations

from typing import Any

from services.notifications.notice import NoticeStatus
from services.notifications.notice_set import NoticeSet
from services.notifications.outcomes import IN_APP_ADDRESS
from services.notifications.planner import EVENT_TRIGGERS, plan
from services.notifications.policies import policy_for
from services.notifications.preferences import Cadence, Channel, Preference
from shared.provenance import acting_as
from tests.unit.notifications.story import (
    DEFAULTS,
    LI,
    NO_PREFERENCES,
    SNAPSHOT,
    TOM,
    risk_disclosed,
)


def queued(preferences: dict[str, Preference] = NO_PREFERENCES) -> NoticeSet:
    source = risk_disclosed([])  # every decision maker: Li has an email, Tom none
    trigger_policy = policy_for(EVENT_TRIGGERS[source.name], DEFAULTS, {})
    plans = plan(source, SNAPSHOT, trigger_policy, preferences, email_enabled=True)
    return NoticeSet.queue(plans, None)


def collected(notices: NoticeSet) -> list[Any]:
    """The events the set would store now."""
    with acting_as("accord-notifications", "service"):
        return list(notices.collect_events())


def by_person(notices: NoticeSet) -> dict[str, NoticeStatus]:
    return {n.person_id: n.status for n in notices.notices.values()}


def test_an_in_app_notice_is_delivered_as_it_is_queued_and_an_email_waits_for_its_send() -> None:
    notices = queued()
    assert by_person(notices) == {LI: NoticeStatus.QUEUED, TOM: NoticeStatus.DELIVERED}
    queued_event, delivered = collected(notices)
    assert type(queued_event).__name__ == "NotificationQueued"
    assert type(delivered).__name__ == "NotificationDelivered"
    (tom,) = [n for n in notices.notices.values() if n.person_id == TOM]
    assert delivered.deliveries == [
        {"notice_id": tom.id, "attempt": 1, "address": IN_APP_ADDRESS, "digest_key": ""}
    ]
    assert tom.attempts == 1 and tom.next_attempt_at is None


def test_a_set_with_no_in_app_notice_is_only_queued() -> None:
    emailed = {TOM: Preference(Channel.EMAIL, Cadence.IMMEDIATE, email="tom@h.example")}
    notices = queued(emailed)
    assert set(by_person(notices).values()) == {NoticeStatus.QUEUED}
    assert [type(e).__name__ for e in collected(notices)] == ["NotificationQueued"]


def test_everyone_in_app_means_every_notice_delivered_in_one_event() -> None:
    in_app = {p: Preference(Channel.IN_APP) for p in (LI, TOM)}
    notices = queued(in_app)
    assert set(by_person(notices).values()) == {NoticeStatus.DELIVERED}
    events = collected(notices)
    assert [type(e).__name__ for e in events] == ["NotificationQueued", "NotificationDelivered"]
    assert len(events[1].deliveries) == 2
