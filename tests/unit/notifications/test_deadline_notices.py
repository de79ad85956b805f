"""A deadline warning reaches the promise's owner and the account manager; a missed deadline
is urgent, so it skips the daily digest."""

from __future__ import annotations

from services.notifications.planner import EVENT_TRIGGERS, NoticePlan, plan
from services.notifications.policies import policy_for
from services.notifications.preferences import Cadence, Channel, Preference
from tests.unit.notifications.story import (
    AMIRA,
    DEFAULTS,
    LI,
    NO_PREFERENCES,
    OBLIGATION,
    SNAPSHOT,
    event,
)

WARNING = {
    "kind": "obligation",
    "item_id": OBLIGATION,
    "step": None,
    "starts_at": "2025-04-02T09:00:00+00:00",
    "due_at": "2025-04-16T00:00:00+00:00",
    "owner": LI,
}


def planned(source, preferences=NO_PREFERENCES) -> list[NoticePlan]:
    trigger_policy = policy_for(EVENT_TRIGGERS[source.name], DEFAULTS, {})
    return plan(source, SNAPSHOT, trigger_policy, preferences, email_enabled=True)


def test_an_approaching_deadline_reaches_its_owner_and_the_account_manager() -> None:
    plans = planned(event("DeadlineApproaching", threshold=75, **WARNING))
    assert [p.person_id for p in plans] == [LI, AMIRA]
    assert plans[0].subject == "75% of the time used: obligation"
    assert plans[0].data["item_id"] == OBLIGATION and plans[0].data["threshold"] == 75
    assert not plans[0].urgent


def test_a_missed_deadline_is_urgent_and_skips_the_digest() -> None:
    digest = {LI: Preference(channel=Channel.EMAIL, cadence=Cadence.DAILY_DIGEST, email=LI)}
    plans = planned(event("DeadlineMissed", **WARNING), preferences=digest)
    assert [p.person_id for p in plans] == [LI, AMIRA]
    assert plans[0].subject == "Deadline missed: obligation"
    assert plans[0].urgent and not plans[0].digest


def test_an_owner_who_is_not_on_the_contract_hears_nothing_but_the_account_manager_does() -> None:
    stranger = {**WARNING, "owner": "someone@elsewhere.example"}
    assert [p.person_id for p in planned(event("DeadlineMissed", **stranger))] == [AMIRA]
