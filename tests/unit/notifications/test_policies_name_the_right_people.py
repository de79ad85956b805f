"""Each triggering event reaches the people its policy names, each on their own channel."""

from __future__ import annotations

from dataclasses import replace

from services.notifications.planner import EVENT_TRIGGERS, NoticePlan, plan, recipients, trigger_of
from services.notifications.policies import Policy, Trigger, policy_for
from services.notifications.preferences import Cadence, Channel, Preference
from services.notifications.source import SourceEvent
from tests.unit.notifications.story import (
    AMIRA,
    CONTRACT,
    DEFAULTS,
    GRACE,
    LI,
    NO_PREFERENCES,
    NOW,
    OBLIGATION,
    REPORTS,
    SCANNERS,
    SNAPSHOT,
    TOM,
    TRUCKS,
    event,
    expectation_proposed,
    measurement,
    obligation_proposed,
    policy,
    risk_disclosed,
)


def planned(source, preferences=NO_PREFERENCES, snapshot=SNAPSHOT, email=True) -> list[NoticePlan]:
    trigger_policy = policy_for(EVENT_TRIGGERS[source.name], DEFAULTS, {})
    return plan(source, snapshot, trigger_policy, preferences, email_enabled=email)


def people(plans: list[NoticePlan]) -> list[str]:
    return [p.person_id for p in plans]


def test_a_proposed_expectation_reaches_its_proposer_and_the_account_manager() -> None:
    assert people(planned(expectation_proposed(SCANNERS, by=LI))) == [LI, AMIRA]


def test_a_refined_expectation_reaches_everyone_who_proposed_it_and_the_account_manager() -> None:
    merged = replace(SNAPSHOT, proposers={**SNAPSHOT.proposers, SCANNERS: (LI, TOM)})
    refined = event(
        "ExpectationRefined", expectation_id=SCANNERS, revision=2, text="Scanners in 4h",
        terms={}, reason="measurable", refined_by=AMIRA, measurable=True,
        missing_for_measurable=[],
    )  # fmt: skip
    assert people(planned(refined, snapshot=merged)) == [LI, TOM, AMIRA]


def test_published_priorities_reach_every_decision_maker_with_the_ranking() -> None:
    published = event("CorporatePrioritiesPublished", ranking=[TRUCKS, SCANNERS, REPORTS])
    plans = planned(published)
    assert people(plans) == [LI, TOM]
    assert [r["expectation_id"] for r in plans[0].data["ranking"]] == [TRUCKS, SCANNERS, REPORTS]
    assert "1. Trucks tracked" in plans[0].text


def test_a_proposed_obligation_reaches_the_decision_makers_and_the_person_it_is_needed_from() -> (
    None
):
    assert people(planned(obligation_proposed())) == [LI, TOM, GRACE]


def test_a_decided_obligation_reaches_its_proposer_and_the_account_manager_once() -> None:
    accepted = event("ObligationAccepted", obligation_id=OBLIGATION, accepted_by=LI)
    assert people(planned(accepted)) == [AMIRA]


def test_a_risk_reaches_the_decision_makers_whose_expectations_it_affects() -> None:
    assert people(planned(risk_disclosed([TRUCKS]))) == [TOM]
    assert people(planned(risk_disclosed([SCANNERS, REPORTS]))) == [LI]


def test_a_risk_to_the_whole_contract_reaches_every_decision_maker() -> None:
    assert people(planned(risk_disclosed([]))) == [LI, TOM]


def test_a_missed_target_on_a_top_two_priority_escalates_to_the_sponsor_and_account_manager() -> (
    None
):
    plans = planned(measurement(SCANNERS, met=False))
    assert people(plans) == [GRACE, AMIRA]
    assert all(p.urgent for p in plans)
    assert plans[0].subject.startswith("Target missed on corporate priority #2")


def test_a_missed_target_below_the_top_two_or_a_met_one_notifies_nobody() -> None:
    assert planned(measurement(REPORTS, met=False)) == []
    assert planned(measurement(SCANNERS, met=True)) == []


def test_a_miss_notifies_nobody_before_any_ranking_is_published() -> None:
    unranked = replace(SNAPSHOT, ranking=())
    assert planned(measurement(SCANNERS, met=False), snapshot=unranked) == []


def test_a_contracts_own_policy_replaces_the_default() -> None:
    own = {"expectation_proposed": Policy(recipients=["client_sponsor"])}
    chosen = policy_for(Trigger.EXPECTATION_PROPOSED, DEFAULTS, own)
    assert recipients(Trigger.EXPECTATION_PROPOSED, chosen, expectation_proposed(), SNAPSHOT) == [
        GRACE
    ]


def test_a_disabled_policy_notifies_nobody() -> None:
    off = Policy(enabled=False, recipients=["client_decision_maker"])
    assert plan(expectation_proposed(), SNAPSHOT, off, {}, email_enabled=True) == []


def test_reminders_follow_the_obligation_policy() -> None:
    assert policy_for(Trigger.OBLIGATION_REMINDER, DEFAULTS, {}) is policy(
        Trigger.OBLIGATION_PROPOSED
    )
    fired = event("ReminderFired", event_id="reminder-1", obligation_id=OBLIGATION)
    plans = planned(fired)
    assert people(plans) == [LI, TOM]
    assert plans[0].trigger is Trigger.OBLIGATION_REMINDER
    assert plans[0].subject == "Reminder: VPN access is waiting for a decision"


def test_someone_who_left_the_contract_hears_no_more_of_it() -> None:
    without_tom = replace(SNAPSHOT, people={k: v for k, v in SNAPSHOT.people.items() if k != TOM})
    assert people(planned(risk_disclosed([]), snapshot=without_tom)) == [LI]


def test_people_are_emailed_by_default_and_those_without_an_address_get_in_app_notices() -> None:
    channels = {p.person_id: p.channel for p in planned(risk_disclosed([]))}
    assert channels == {LI: Channel.EMAIL, TOM: Channel.IN_APP}


def test_without_an_smtp_server_everyone_defaults_to_in_app() -> None:
    channels = {p.channel for p in planned(risk_disclosed([]), email=False)}
    assert channels == {Channel.IN_APP}


def test_a_chosen_channel_and_digest_are_honoured_but_urgent_notices_skip_the_digest() -> None:
    digest = {
        LI: Preference(Channel.WEBHOOK, Cadence.DAILY_DIGEST, webhook_url="https://h/x"),
        GRACE: Preference(Channel.EMAIL, Cadence.DAILY_DIGEST),
    }
    proposed = {p.person_id: p for p in planned(expectation_proposed(), digest)}
    assert (proposed[LI].channel, proposed[LI].digest) == (Channel.WEBHOOK, True)
    escalated = {p.person_id: p for p in planned(measurement(SCANNERS, met=False), digest)}
    assert (escalated[GRACE].channel, escalated[GRACE].digest) == (Channel.EMAIL, False)


def test_in_app_notices_are_never_held_for_a_digest() -> None:
    preferences = {LI: Preference(Channel.IN_APP, Cadence.DAILY_DIGEST)}
    (li,) = [p for p in planned(expectation_proposed(), preferences) if p.person_id == LI]
    assert li.digest is False


def test_events_that_concern_nobody_trigger_nothing() -> None:
    assert trigger_of(event("QuestionAsked")) is None
    assert trigger_of(event("ParticipantJoined")) is None


def test_an_auditor_named_by_one_side_is_told_to_both_sides_appointers() -> None:
    """The other side's appointer has to confirm the auditor: before, nothing told them."""
    named = SourceEvent("event-1", "AuditorNominated", NOW, {
        "contract_id": str(CONTRACT), "person_id": "ada", "name": "Ada Auditor",
        "side": "client", "email": "", "phone": "", "nominated_by": AMIRA,
    })  # fmt: skip
    plans = planned(named)
    assert people(plans) == [AMIRA, GRACE]
    assert {p.trigger for p in plans} == {Trigger.AUDITOR_NOMINATED}
    assert plans[0].subject == "Auditor to confirm: Ada Auditor, named by Amira Khan"
    assert "confirms them, with joinContract" in plans[0].text
    assert plans[0].data["person_id"] == "ada" and plans[0].data["side"] == "client"


def test_an_auditor_is_told_to_whoever_could_confirm_them_first() -> None:
    """A client without a sponsor appoints through its first person, whom no role names."""
    named = SourceEvent("event-1", "AuditorNominated", NOW, {
        "contract_id": str(CONTRACT), "person_id": "ada", "name": "Ada Auditor",
        "side": "provider", "email": "", "phone": "", "nominated_by": AMIRA, "confirmers": [LI],
    })  # fmt: skip
    plans = planned(named)
    assert people(plans) == [LI, AMIRA, GRACE]
    assert f"once {SNAPSHOT.name_of(LI)} confirms them" in plans[0].text
    assert plans[0].data["confirmers"] == [LI]
