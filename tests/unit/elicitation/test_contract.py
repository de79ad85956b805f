"""Opening a contract and who takes part in it (its questions: test_questions.py)."""

from datetime import date
from uuid import uuid4

import pytest

from services.elicitation.contract import Contract
from shared.commands.elicitation import Role, Side
from tests.unit.elicitation.story import AMIRA, GRACE, LI, OLIVE, SAM, STRANGER, TOM, Story


@pytest.fixture
def story() -> Story:
    return Story()


def test_an_opened_contract_records_both_organisations_and_the_opener_takes_part(
    story: Story,
) -> None:
    contract = story.app.get_contract(story.contract_id)
    assert isinstance(contract, Contract)
    assert contract.client_organisation == "Harbour Logistics plc"
    assert contract.provider_organisation == "Northgate IT Services"
    assert contract.starts_on == date(2025, 4, 1)
    assert contract.participants[AMIRA].role is Role.PROVIDER_ACCOUNT_MANAGER
    assert contract.participants[AMIRA].side is Side.PROVIDER


def test_opening_a_contract_answers_with_its_id_version_and_the_positions_of_its_events() -> None:
    story = Story()
    opened = story.do(
        story.app.open_contract,
        by=SAM,
        client_organisation="Harbour",
        provider_organisation="Northgate",
        title="Desk",
        starts_on=date(2025, 1, 1),
        name="Sam Osei",
        role="provider_account_manager",
    )
    # ContractOpened and the opener's ParticipantJoined, stored after the story's own events.
    assert opened.version == 2
    assert len(opened.positions) == 2
    assert list(opened.positions) == sorted(opened.positions)
    assert opened.positions[-1] == story.app.recorder.max_notification_id()


def test_participants_join_with_their_side_role_and_contact_details(story: Story) -> None:
    contract = story.app.get_contract(story.contract_id)
    li = contract.participants[LI]
    assert (li.name, li.side, li.role, li.email) == (
        "Li Wei",
        Side.CLIENT,
        Role.CLIENT_DECISION_MAKER,
        LI,
    )
    assert contract.participants[OLIVE].side is Side.CLIENT


def test_an_auditor_must_say_which_side_they_audit_for(story: Story) -> None:
    with story.refused("INVALID_CHOICE"):
        story.do(
            story.app.join_contract,
            story.contract_id,
            by=AMIRA,
            person_id="auditor@example.com",
            name="An Auditor",
            role="auditor",
        )


def test_a_role_is_refused_on_the_other_side(story: Story) -> None:
    with story.refused("ROLE_NOT_ON_SIDE"):
        story.do(
            story.app.join_contract,
            story.contract_id,
            by=AMIRA,
            person_id="pat@harbour.example",
            name="Pat",
            role="provider_delivery_lead",
            side="client",
        )


def test_an_unknown_role_is_refused_with_the_roles_there_are(story: Story) -> None:
    with story.refused("INVALID_CHOICE") as refusal:
        story.do(
            story.app.join_contract,
            story.contract_id,
            by=AMIRA,
            person_id="pat@harbour.example",
            name="Pat",
            role="ceo",
        )
    assert "client_sponsor" in refusal.value.details["allowed"]


def test_a_contact_email_must_look_like_one(story: Story) -> None:
    with story.refused("CONTACT_INVALID"):
        story.do(
            story.app.join_contract,
            story.contract_id,
            by=AMIRA,
            person_id="pat",
            name="Pat",
            role="client_decision_maker",
            email="pat at harbour",
        )


def test_someone_already_on_the_contract_cannot_join_it_again(story: Story) -> None:
    with story.refused("ALREADY_A_PARTICIPANT"):
        story.do(
            story.app.join_contract,
            story.contract_id,
            by=GRACE,
            person_id=LI,
            name="Li Wei",
            role="client_sponsor",
        )


def test_a_delivery_lead_may_not_add_people_to_the_contract(story: Story) -> None:
    with story.refused("NOT_PERMITTED"):
        story.do(
            story.app.join_contract,
            story.contract_id,
            by=SAM,
            person_id="pat",
            name="Pat",
            role="client_decision_maker",
        )


def test_a_client_sponsor_may_add_people_from_their_organisation(story: Story) -> None:
    story.do(
        story.app.join_contract,
        story.contract_id,
        by=GRACE,
        person_id="pat@harbour.example",
        name="Pat Lee",
        role="client_decision_maker",
    )
    assert "pat@harbour.example" in story.app.get_contract(story.contract_id).participants


def test_a_person_not_on_the_contract_is_refused_by_name(story: Story) -> None:
    with story.refused("NOT_A_PARTICIPANT") as refusal:
        story.do(
            story.app.join_contract,
            story.contract_id,
            by=STRANGER,
            person_id="pat",
            name="Pat",
            role="client_decision_maker",
        )
    assert refusal.value.details["person_id"] == STRANGER


def test_an_unknown_contract_is_refused(story: Story) -> None:
    with story.refused("UNKNOWN_CONTRACT"):
        story.do(story.app.leave_contract, uuid4(), by=AMIRA, person_id=LI)


def test_an_id_that_is_not_a_contract_is_an_unknown_contract(story: Story) -> None:
    expectation_id = story.proposed()
    with story.refused("UNKNOWN_CONTRACT"):
        story.do(story.app.leave_contract, expectation_id, by=AMIRA, person_id=LI)


def test_a_participant_may_leave_of_their_own_accord(story: Story) -> None:
    story.do(story.app.leave_contract, story.contract_id, by=TOM, person_id=TOM, reason="Moved")
    assert TOM not in story.app.get_contract(story.contract_id).participants


def test_a_participant_who_left_can_no_longer_act_on_the_contract(story: Story) -> None:
    story.do(story.app.leave_contract, story.contract_id, by=GRACE, person_id=TOM)
    with story.refused("NOT_A_PARTICIPANT"):
        story.proposed(by=TOM)


def test_one_participant_cannot_remove_another_without_managing_the_contract(
    story: Story,
) -> None:
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.leave_contract, story.contract_id, by=SAM, person_id=TOM)


def test_removing_someone_not_on_the_contract_is_refused(story: Story) -> None:
    with story.refused("NOT_A_PARTICIPANT"):
        story.do(story.app.leave_contract, story.contract_id, by=AMIRA, person_id=STRANGER)


def test_an_auditor_may_not_open_a_contract() -> None:
    story = Story()
    with story.refused("NOT_PERMITTED"):
        story.do(
            story.app.open_contract,
            by=OLIVE,
            client_organisation="Harbour",
            provider_organisation="Northgate",
            title="Desk",
            starts_on="2025-01-01",
            name="Olive",
            role="auditor",
            side="client",
        )


def test_a_start_date_that_is_not_a_date_is_refused() -> None:
    story = Story()
    with story.refused("DATE_INVALID"):
        story.do(
            story.app.open_contract,
            by=AMIRA,
            client_organisation="Harbour",
            provider_organisation="Northgate",
            title="Desk",
            starts_on="next spring",
            name="Amira",
            role="provider_account_manager",
        )


def test_a_stale_contract_version_is_refused_as_a_conflict(story: Story) -> None:
    version = story.app.get_contract(story.contract_id).version
    story.do(story.app.leave_contract, story.contract_id, by=TOM, person_id=TOM)
    with story.refused("CONFLICT") as refusal:
        story.do(
            story.app.leave_contract,
            story.contract_id,
            by=GRACE,
            person_id=GRACE,
            expected_version=version,
        )
    assert refusal.value.details["version"] == version + 1
