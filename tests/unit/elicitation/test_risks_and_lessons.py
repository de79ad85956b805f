"""Risks disclosed early and acknowledged by the client; remedial actions, resolutions,
lessons learned and the preventive actions they lead to."""

from datetime import date
from uuid import uuid4

import pytest

from shared.commands.elicitation import RiskKind
from tests.unit.elicitation.story import AMIRA, GRACE, LI, OLIVE, SAM, STRANGER, TOM, Story


@pytest.fixture
def story() -> Story:
    return Story()


def disclose(story: Story, **changes):
    fields = {
        "by": SAM,
        "kind": "preconditioning",
        "title": "Scanner firmware end of support",
        "description": "Faults may rise after June",
        "likelihood": 3,
        "impact": 4,
        "prepare_for": "Budget for 40 new scanners",
    }
    fields.update(changes)
    return story.do(story.app.disclose_risk, story.contract_id, **fields)


def test_the_provider_preconditions_the_client_about_a_risk_that_may_come(story: Story) -> None:
    expectation_id = story.proposed()
    risk = story.app.get_risk(disclose(story, affected_expectations=[expectation_id]).id)
    assert risk.kind is RiskKind.PRECONDITIONING
    assert (risk.likelihood, risk.impact, risk.exposure) == (3, 4, 12)
    assert risk.affected_expectations == (expectation_id,)
    assert risk.prepare_for == "Budget for 40 new scanners"


def test_a_disclosure_is_unacknowledged_until_a_decision_maker_confirms_it(story: Story) -> None:
    risk_id = disclose(story).id
    assert not story.app.get_risk(risk_id).acknowledged
    story.do(story.app.acknowledge_risk, risk_id, by=LI)
    story.do(story.app.acknowledge_risk, risk_id, by=TOM)
    risk = story.app.get_risk(risk_id)
    assert risk.acknowledged and risk.acknowledged_by == (LI, TOM)


def test_a_decision_maker_acknowledges_a_risk_once(story: Story) -> None:
    risk_id = disclose(story).id
    story.do(story.app.acknowledge_risk, risk_id, by=LI)
    with story.refused("RISK_ALREADY_ACKNOWLEDGED"):
        story.do(story.app.acknowledge_risk, risk_id, by=LI)


@pytest.mark.parametrize("person", [AMIRA, GRACE, OLIVE])
def test_only_client_decision_makers_acknowledge_risks(story: Story, person: str) -> None:
    risk_id = disclose(story).id
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.acknowledge_risk, risk_id, by=person)


@pytest.mark.parametrize("person", [LI, GRACE, OLIVE])
def test_only_the_providers_team_discloses_risks(story: Story, person: str) -> None:
    with story.refused("NOT_PERMITTED"):
        disclose(story, by=person)


def test_preconditioning_says_what_the_client_should_prepare_for(story: Story) -> None:
    with story.refused("TEXT_EMPTY") as refusal:
        disclose(story, prepare_for="")
    assert refusal.value.details["field"] == "prepare_for"
    disclose(story, kind="problem", prepare_for="")


@pytest.mark.parametrize("score", [0, 6, "3", 2.5, True])
def test_likelihood_and_impact_are_whole_numbers_from_one_to_five(story: Story, score) -> None:
    with story.refused("SCORE_OUT_OF_RANGE"):
        disclose(story, likelihood=score)
    with story.refused("SCORE_OUT_OF_RANGE"):
        disclose(story, impact=score)


def test_an_unknown_kind_of_risk_is_refused(story: Story) -> None:
    with story.refused("INVALID_CHOICE"):
        disclose(story, kind="rumour")


def test_a_risk_affects_only_expectations_of_its_contract(story: Story) -> None:
    with story.refused("UNKNOWN_EXPECTATION"):
        disclose(story, affected_expectations=[uuid4()])


def test_remedial_actions_are_recorded_until_the_risk_is_resolved(story: Story) -> None:
    risk_id = disclose(story, kind="problem").id
    story.do(story.app.record_remedial_action, risk_id, by=SAM, action="Rolled back firmware")
    story.do(story.app.resolve_risk, risk_id, by=AMIRA, resolution="Scanners replaced")
    risk = story.app.get_risk(risk_id)
    assert risk.remedial_actions == ("Rolled back firmware",)
    assert risk.resolved and risk.resolution == "Scanners replaced"
    with story.refused("RISK_RESOLVED"):
        story.do(story.app.record_remedial_action, risk_id, by=SAM, action="More")
    with story.refused("RISK_RESOLVED"):
        story.do(story.app.resolve_risk, risk_id, by=SAM, resolution="Again")


@pytest.mark.parametrize("person", [LI, GRACE, OLIVE])
def test_only_the_providers_team_acts_on_and_resolves_risks(story: Story, person: str) -> None:
    risk_id = disclose(story).id
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.record_remedial_action, risk_id, by=person, action="Pray")
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.resolve_risk, risk_id, by=person, resolution="Gone")


def test_acting_on_an_unknown_risk_is_refused(story: Story) -> None:
    with story.refused("UNKNOWN_RISK"):
        story.do(story.app.resolve_risk, uuid4(), by=SAM, resolution="Gone")


def test_a_lesson_learned_is_linked_to_the_risks_and_expectations_it_came_from(
    story: Story,
) -> None:
    risk_id, expectation_id = disclose(story).id, story.proposed()
    learned = story.do(
        story.app.record_lesson_learned,
        story.contract_id,
        by=SAM,
        lesson="Pilot firmware in one warehouse first",
        risk_ids=[risk_id],
        expectation_ids=[expectation_id],
    )
    lesson = story.app.get_lesson(learned.id)
    assert lesson.risk_ids == (risk_id,) and lesson.expectation_ids == (expectation_id,)


def test_a_lesson_is_linked_to_something(story: Story) -> None:
    with story.refused("LESSON_NOT_LINKED"):
        story.do(story.app.record_lesson_learned, story.contract_id, by=SAM, lesson="Be careful")


def test_a_lesson_links_only_risks_of_its_contract(story: Story) -> None:
    with story.refused("UNKNOWN_RISK"):
        story.do(
            story.app.record_lesson_learned,
            story.contract_id,
            by=SAM,
            lesson="Pilot first",
            risk_ids=[uuid4()],
        )


def test_a_preventive_action_is_planned_from_a_lesson_with_an_owner_and_a_date(
    story: Story,
) -> None:
    lesson_id = story.do(
        story.app.record_lesson_learned,
        story.contract_id,
        by=SAM,
        lesson="Pilot firmware first",
        risk_ids=[disclose(story).id],
    ).id
    planned = story.do(
        story.app.plan_preventive_action,
        lesson_id,
        by=AMIRA,
        action="Add a pilot stage to the change procedure",
        owner=SAM,
        due_on="2025-09-30",
    )
    (action,) = story.app.get_lesson(lesson_id).preventive_actions
    assert action.action_id == planned.created
    assert (action.owner, action.due_on, action.planned_by) == (SAM, date(2025, 9, 30), AMIRA)


def test_a_preventive_action_is_owned_by_someone_on_the_contract(story: Story) -> None:
    lesson_id = story.do(
        story.app.record_lesson_learned,
        story.contract_id,
        by=SAM,
        lesson="Pilot first",
        expectation_ids=[story.proposed()],
    ).id
    with story.refused("NOT_A_PARTICIPANT"):
        story.do(
            story.app.plan_preventive_action,
            lesson_id,
            by=AMIRA,
            action="Pilot",
            owner=STRANGER,
            due_on="2025-09-30",
        )


@pytest.mark.parametrize("person", [LI, OLIVE])
def test_lessons_and_preventive_actions_are_the_providers_to_record(
    story: Story, person: str
) -> None:
    expectation_id = story.proposed()
    with story.refused("NOT_PERMITTED"):
        story.do(
            story.app.record_lesson_learned,
            story.contract_id,
            by=person,
            lesson="Pilot first",
            expectation_ids=[expectation_id],
        )


def test_planning_on_an_unknown_lesson_is_refused(story: Story) -> None:
    with story.refused("UNKNOWN_LESSON"):
        story.do(
            story.app.plan_preventive_action,
            uuid4(),
            by=AMIRA,
            action="Pilot",
            owner=SAM,
            due_on="2025-09-30",
        )
