"""Every event the service stores is published under its registered contract."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import jsonschema

from services.notifications.application import Notifications
from services.notifications.outcomes import NoticeRef
from services.notifications.planner import plan
from services.notifications.policies import Policy, Trigger
from services.notifications.preferences import Cadence, Channel, Preference
from shared.provenance import acting_as
from shared.relay import envelope_of
from shared.schemas import registry
from tests.unit.notifications.story import (
    CONTRACT,
    LI,
    NOW,
    OBLIGATION,
    SNAPSHOT,
    expectation_proposed,
    policy,
)
from tests.unit.notifications.test_reminders import DUE_ON, every, reminder_plans

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def test_each_stored_event_publishes_as_schema_valid_data_of_its_contract() -> None:
    app = Notifications(env=POPO)
    plans = plan(
        expectation_proposed(), SNAPSHOT, policy(Trigger.EXPECTATION_PROPOSED), {},
        email_enabled=True,
    )  # fmt: skip
    with acting_as("accord-notifications", "system"):
        app.queue(plans)
        app.record_failed([plans[0].ref], "HTTP 500", "u", NOW, timedelta(1), 5)
        app.record_delivered([plans[0].ref], "u")
        app.schedule_reminders(
            CONTRACT, UUID(OBLIGATION), NOW, DUE_ON, timedelta(days=3), None, NOW
        )
        app.fire_reminder(every(1), reminder_plans(every(1), NOW), NOW)
        app.cancel_reminder(every(2), "the obligation was accepted")
        app.change_notification_policy(
            CONTRACT, Trigger.RISK_DISCLOSED, Policy(recipients=["auditor"]), "am"
        )
        app.change_notification_preferences(
            CONTRACT, LI, Preference(Channel.WEBHOOK, Cadence.DAILY_DIGEST, "", "https://h/"), LI
        )
    with acting_as(LI, "client_decision_maker"):
        app.acknowledge_notification(plans[0].notice_id, LI, plans[0].record_id)
    envelopes = [
        envelope_of(app, "notifications", n) for n in app.recorder.select_notifications(0, 100)
    ]
    names = {e.type.split(".")[2] for e in envelopes}
    assert names == {
        "NotificationQueued", "NotificationFailed", "NotificationDelivered",
        "NotificationAcknowledged", "ReminderScheduled", "ReminderFired", "ReminderCancelled",
        "PolicyChanged", "PreferencesChanged",
    }  # fmt: skip
    for envelope in envelopes:
        jsonschema.validate(envelope.data, registry.lookup(envelope.type).json_schema())
        assert envelope.key == str(CONTRACT)
    versions = {e.type.split(".", 2)[2] for e in envelopes if "Notification" in e.type}
    assert versions == {
        "NotificationQueued.v2", "NotificationFailed.v2", "NotificationDelivered.v2",
        "NotificationAcknowledged.v1",
    }  # fmt: skip
    policy_data = next(e.data for e in envelopes if e.type.endswith("PolicyChanged.v1"))
    assert policy_data["policy"]["recipients"] == ["auditor"]


def test_a_policy_round_trips_through_its_published_form() -> None:
    chosen = Policy(recipients=["client_decision_maker"], remind_every=timedelta(seconds=2))
    assert Policy.model_validate(chosen.model_dump(mode="json")) == chosen
    assert chosen.model_dump(mode="json")["remind_every"] == "PT2S"


def test_notices_stored_before_v2_still_publish_as_the_v1_events_they_were() -> None:
    app = Notifications(env=POPO)
    plans = plan(
        expectation_proposed(), SNAPSHOT, policy(Trigger.EXPECTATION_PROPOSED), {},
        email_enabled=True,
    )  # fmt: skip
    own = NoticeRef.of(plans[0].notice_id)
    with acting_as("accord-notifications", "system"):
        app.queue(plans, each_notice=True)
        app.record_failed([own], "HTTP 500", "u", NOW, timedelta(1), 5)
        app.record_delivered([own], "u")
    envelopes = [
        envelope_of(app, "notifications", n) for n in app.recorder.select_notifications(0, 100)
    ]
    assert [e.type.split(".", 2)[2] for e in envelopes] == [
        "NotificationQueued.v1", "NotificationQueued.v1", "NotificationFailed.v1",
        "NotificationDelivered.v1",
    ]  # fmt: skip
    for envelope in envelopes:
        jsonschema.validate(envelope.data, registry.lookup(envelope.type).json_schema())
