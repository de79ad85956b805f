"""Obligations: what the provider needs from the client, accepted or declined once, then
fulfilled or breached."""

from datetime import date
from uuid import uuid4

import pytest

from services.elicitation.obligation import ObligationStatus
from tests.unit.elicitation.story import AMIRA, GRACE, LI, OLIVE, SAM, TOM, Story


@pytest.fixture
def story() -> Story:
    return Story()


def test_the_provider_states_what_it_needs_from_whom_by_when_and_for_what(story: Story) -> None:
    expectation_id = story.proposed()
    proposed = story.do(
        story.app.propose_obligation,
        story.contract_id,
        by=SAM,
        what="Remote access to the WMS",
        needed_from=LI,
        due_on="2025-03-15",
        depends_on=[expectation_id],
    )
    obligation = story.app.get_obligation(proposed.id)
    assert obligation.what == "Remote access to the WMS"
    assert obligation.needed_from == LI
    assert obligation.due_on == date(2025, 3, 15)
    assert obligation.depends_on == (expectation_id,)
    assert obligation.status is ObligationStatus.PROPOSED
    assert obligation.contract_id == story.contract_id


@pytest.mark.parametrize("person", [LI, GRACE, OLIVE])
def test_only_the_providers_team_proposes_obligations(story: Story, person: str) -> None:
    with story.refused("NOT_PERMITTED"):
        story.do(
            story.app.propose_obligation,
            story.contract_id,
            by=person,
            what="Access",
            needed_from=LI,
            due_on="2025-03-15",
        )


def test_an_obligation_is_needed_from_someone_on_the_clients_side(story: Story) -> None:
    with story.refused("WRONG_ROLE"):
        story.do(
            story.app.propose_obligation,
            story.contract_id,
            by=AMIRA,
            what="Access",
            needed_from=SAM,
            due_on="2025-03-15",
        )


def test_an_obligation_depends_only_on_expectations_of_its_contract(story: Story) -> None:
    elsewhere = Story(story.app).proposed()
    with story.refused("UNKNOWN_EXPECTATION"):
        story.do(
            story.app.propose_obligation,
            story.contract_id,
            by=AMIRA,
            what="Access",
            needed_from=LI,
            due_on="2025-03-15",
            depends_on=[elsewhere],
        )


def test_an_obligation_on_an_unknown_contract_is_refused(story: Story) -> None:
    with story.refused("UNKNOWN_CONTRACT"):
        story.do(
            story.app.propose_obligation,
            uuid4(),
            by=AMIRA,
            what="Access",
            needed_from=LI,
            due_on="2025-03-15",
        )


def test_a_client_decision_maker_accepts_an_obligation(story: Story) -> None:
    obligation_id = story.obligation()
    story.do(story.app.accept_obligation, obligation_id, by=TOM)
    obligation = story.app.get_obligation(obligation_id)
    assert obligation.status is ObligationStatus.ACCEPTED
    assert obligation.decided_by == TOM


def test_a_client_decision_maker_declines_an_obligation_with_a_reason(story: Story) -> None:
    obligation_id = story.obligation()
    story.do(story.app.decline_obligation, obligation_id, by=LI, reason="Policy forbids it")
    obligation = story.app.get_obligation(obligation_id)
    assert obligation.status is ObligationStatus.DECLINED
    assert obligation.decline_reason == "Policy forbids it"


@pytest.mark.parametrize("person", [AMIRA, SAM, GRACE, OLIVE])
def test_only_client_decision_makers_accept_or_decline_obligations(
    story: Story, person: str
) -> None:
    obligation_id = story.obligation()
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.accept_obligation, obligation_id, by=person)
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.decline_obligation, obligation_id, by=person, reason="No")


def test_an_obligation_is_decided_once(story: Story) -> None:
    obligation_id = story.obligation()
    story.do(story.app.accept_obligation, obligation_id, by=LI)
    with story.refused("OBLIGATION_ALREADY_DECIDED"):
        story.do(story.app.decline_obligation, obligation_id, by=TOM, reason="Changed our minds")
    with story.refused("OBLIGATION_ALREADY_DECIDED") as refusal:
        story.do(story.app.accept_obligation, obligation_id, by=TOM)
    assert refusal.value.details["decision"] == "accepted"


def test_a_declined_obligation_cannot_be_accepted_afterwards(story: Story) -> None:
    obligation_id = story.obligation()
    story.do(story.app.decline_obligation, obligation_id, by=LI, reason="No")
    with story.refused("OBLIGATION_ALREADY_DECIDED") as refusal:
        story.do(story.app.accept_obligation, obligation_id, by=LI)
    assert refusal.value.details["decision"] == "declined"


def test_deciding_an_unknown_obligation_is_refused(story: Story) -> None:
    with story.refused("UNKNOWN_OBLIGATION"):
        story.do(story.app.accept_obligation, uuid4(), by=LI)


def test_the_provider_confirms_an_accepted_obligation_was_fulfilled(story: Story) -> None:
    obligation_id = story.obligation()
    story.do(story.app.accept_obligation, obligation_id, by=LI)
    story.do(story.app.fulfil_obligation, obligation_id, by=SAM, note="VPN issued")
    assert story.app.get_obligation(obligation_id).status is ObligationStatus.FULFILLED


def test_an_obligation_not_accepted_is_neither_fulfilled_nor_breached(story: Story) -> None:
    obligation_id = story.obligation()
    with story.refused("OBLIGATION_NOT_ACCEPTED"):
        story.do(story.app.fulfil_obligation, obligation_id, by=SAM)
    story.do(story.app.decline_obligation, obligation_id, by=LI, reason="No")
    with story.refused("OBLIGATION_NOT_ACCEPTED"):
        story.do(story.app.breach_obligation, obligation_id, by=SAM, what_happened="Late")


def test_a_breached_obligation_may_still_be_fulfilled_late(story: Story) -> None:
    obligation_id = story.obligation()
    story.do(story.app.accept_obligation, obligation_id, by=LI)
    story.do(
        story.app.breach_obligation,
        obligation_id,
        by=SAM,
        what_happened="Access not granted by the 15th",
        impact="Engineers on site until then",
    )
    assert story.app.get_obligation(obligation_id).status is ObligationStatus.BREACHED
    with story.refused("OBLIGATION_ALREADY_BREACHED"):
        story.do(story.app.breach_obligation, obligation_id, by=SAM, what_happened="Still late")
    story.do(story.app.fulfil_obligation, obligation_id, by=SAM, note="Granted on the 20th")
    assert story.app.get_obligation(obligation_id).status is ObligationStatus.FULFILLED


def test_a_fulfilled_obligation_is_settled(story: Story) -> None:
    obligation_id = story.obligation()
    story.do(story.app.accept_obligation, obligation_id, by=LI)
    story.do(story.app.fulfil_obligation, obligation_id, by=SAM)
    with story.refused("OBLIGATION_ALREADY_FULFILLED"):
        story.do(story.app.breach_obligation, obligation_id, by=SAM, what_happened="Revoked")
    with story.refused("OBLIGATION_ALREADY_FULFILLED"):
        story.do(story.app.fulfil_obligation, obligation_id, by=SAM)


@pytest.mark.parametrize("person", [LI, GRACE, OLIVE])
def test_only_the_providers_team_settles_obligations(story: Story, person: str) -> None:
    obligation_id = story.obligation()
    story.do(story.app.accept_obligation, obligation_id, by=LI)
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.fulfil_obligation, obligation_id, by=person)
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.breach_obligation, obligation_id, by=person, what_happened="Late")
