"""A command on a notice, given the id of another of the service's records (a reminder, a
policy or preference change), is refused as an unknown notice, never an internal error.

Found by the GraphQL fuzzer: acknowledgeNotification and requeueNotice take any id, the
notices table knows no record for a reminder's id, and the service then loaded whatever
aggregate had that id and called a notice's attributes on it (AttributeError: 'Reminder'
object has no attribute 'person_id'), every time that id was sent.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.notifications.application import Notifications
from services.notifications.errors import UnknownNotice
from services.notifications.idempotency import reminder_id_of
from services.notifications.policies import Trigger, default_policies
from services.notifications.preferences import Channel, Preference
from services.notifications.reminder import first_reminders
from shared.provenance import acting_as

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
AMIRA = "amira"


def other_records(app: Notifications) -> dict[str, UUID]:
    """One record of each kind the service keeps besides notices, by kind."""
    contract, obligation = uuid4(), uuid4()
    due_on, every, before_due = date(2026, 4, 1), timedelta(days=3), timedelta(days=1)
    with acting_as("accord-notifications", "system"):
        assert app.schedule_reminders(contract, obligation, NOW, due_on, every, before_due, NOW)
    first = first_reminders(NOW, due_on, every, before_due, NOW)[0]
    reminder_id = reminder_id_of(str(obligation), first.kind.value, first.sequence)
    assert app.reminder(reminder_id).pending
    policy = default_policies(every, before_due)[Trigger.RISK_DISCLOSED]
    with acting_as(AMIRA, "provider_account_manager"):
        policy_change = app.change_notification_policy(
            contract, Trigger.RISK_DISCLOSED, policy, AMIRA
        )
        preference_change = app.change_notification_preferences(
            contract, AMIRA, Preference(Channel.IN_APP), AMIRA
        )
    return {
        "reminder": reminder_id,
        "policy change": policy_change.id,
        "preference change": preference_change.id,
    }


def test_no_other_record_of_the_service_is_taken_for_a_notice(app: Notifications) -> None:
    for kind, record_id in other_records(app).items():
        with pytest.raises(UnknownNotice):
            app.notice(record_id)
            pytest.fail(f"a {kind} was read as a notice")
        with pytest.raises(UnknownNotice), acting_as(AMIRA, "client_decision_maker"):
            app.acknowledge_notification(record_id, AMIRA)
        with pytest.raises(UnknownNotice), acting_as(AMIRA, "provider_account_manager"):
            app.requeue_notice(record_id, AMIRA)
