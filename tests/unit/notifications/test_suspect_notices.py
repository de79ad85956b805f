"""A suspect link reaches the item's owner and the account manager, naming the item, the
expectation refined and the diff that raised it; a flag no one person owns reaches the account
manager alone, and a contract may send it elsewhere."""

from __future__ import annotations

from typing import Any

from services.notifications.planner import EVENT_TRIGGERS, NoticePlan, plan
from services.notifications.policies import Policy, Recipient, Trigger, policy_for
from shared.schemas import registry
from tests.unit.notifications.story import (
    AMIRA,
    DEFAULTS,
    LI,
    NO_PREFERENCES,
    SAM,
    SCANNERS,
    SNAPSHOT,
    TOM,
    event,
)

RISK = "4c5d6e7f-8a9b-4cad-9e2f-3a4b5c6d7e8f"
FLAG: dict[str, Any] = {
    "item_id": RISK,
    "kind": "risk",
    "expectation_id": SCANNERS,
    "from_revision": 2,
    "revision": 3,
    "changes": [{"field": "terms.target", "before": "4", "after": "2"}],
    "refined_by": AMIRA,
    "reviewers": ["provider_account_manager", "provider_delivery_lead"],
    "owner": SAM,
}


def planned(changed: dict[str, Policy] | None = None, **data: Any) -> list[NoticePlan]:
    source = event("LinkSuspected", **{**FLAG, **data})
    trigger_policy = policy_for(EVENT_TRIGGERS[source.name], DEFAULTS, changed or {})
    return plan(source, SNAPSHOT, trigger_policy, NO_PREFERENCES, email_enabled=True)


def test_the_flag_planned_from_is_the_published_contract_owner_and_all() -> None:
    spec = registry.latest("elicitation", "LinkSuspected")
    assert spec.to_data({**event("LinkSuspected", **FLAG).data})["owner"] == SAM


def test_a_suspect_risk_reaches_its_discloser_and_the_account_manager() -> None:
    plans = planned()
    assert [p.person_id for p in plans] == [SAM, AMIRA]
    assert {p.trigger for p in plans} == {Trigger.LINK_SUSPECTED}
    assert plans[0].subject == "Review needed: a risk rests on changed terms"
    assert "Scanners fixed in 4h" in plans[0].text and "terms.target: 4 \u2192 2" in plans[0].text
    assert not plans[0].urgent


def test_the_notice_carries_the_item_and_the_diff_that_raised_the_flag() -> None:
    data = planned()[0].data
    assert (data["trigger"], data["kind"], data["item_id"]) == ("link_suspected", "risk", RISK)
    assert (data["expectation_id"], data["revision"]) == (SCANNERS, 3)
    assert data["changes"] == FLAG["changes"]


def test_a_commitment_no_one_person_owns_reaches_the_account_manager_alone() -> None:
    plans = planned(kind="commitment", item_id=SCANNERS, owner="")
    assert [p.person_id for p in plans] == [AMIRA]
    assert plans[0].subject == "Review needed: the provider's commitment rests on changed terms"


def test_a_flag_stored_before_owners_were_carried_still_reaches_the_account_manager() -> None:
    old = {k: v for k, v in FLAG.items() if k != "owner"}
    source = event("LinkSuspected", **old)
    policy = policy_for(Trigger.LINK_SUSPECTED, DEFAULTS, {})
    plans = plan(source, SNAPSHOT, policy, NO_PREFERENCES, email_enabled=True)
    assert [p.person_id for p in plans] == [AMIRA]


def test_a_contract_may_send_suspect_links_to_its_decision_makers_instead() -> None:
    changed = {"link_suspected": Policy(recipients=[Recipient.CLIENT_DECISION_MAKER])}
    assert [p.person_id for p in planned(changed)] == [LI, TOM]


def test_a_contract_may_turn_suspect_notices_off() -> None:
    changed = {"link_suspected": Policy(recipients=[Recipient.OWNER], enabled=False)}
    assert planned(changed) == []
