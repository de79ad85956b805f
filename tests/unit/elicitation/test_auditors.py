"""Auditors read everything and change nothing."""

import pytest

from tests.unit.elicitation.story import AMIRA, LI, OLIVE, SAM, Story


@pytest.fixture(scope="module")
def story() -> Story:
    """A contract with one of everything, for the auditor to try their hand at."""
    story = Story()
    story.expectation_id = story.committed()
    story.duplicate_id = story.proposed(by=LI)
    story.measurement_id = story.measured(story.expectation_id, "90").created
    story.gap_id = story.do(
        story.app.acknowledge_gap,
        story.expectation_id,
        story.measurement_id,
        by=AMIRA,
        cause="Staff",
    ).created
    story.do(
        story.app.agree_recovery_plan,
        story.expectation_id,
        story.gap_id,
        by=AMIRA,
        agreed_with=LI,
        steps=[{"action": "Hire", "owner": SAM, "due_on": "2025-07-01"}],
    )
    story.obligation_id = story.obligation()
    story.risk_id = story.risk()
    story.lesson_id = story.do(
        story.app.record_lesson_learned,
        story.contract_id,
        by=SAM,
        lesson="Pilot first",
        risk_ids=[story.risk_id],
    ).id
    story.question_id = story.do(
        story.app.ask_question,
        story.contract_id,
        by=AMIRA,
        asked_of=LI,
        business_area="Ops",
        text="Peak?",
    ).created
    return story


# Every command an auditor might try, with plausible arguments.
ATTEMPTS = {
    "join_contract": lambda s: s.do(
        s.app.join_contract,
        s.contract_id,
        by=OLIVE,
        person_id="x",
        name="X",
        role="auditor",
        side="client",
    ),
    "leave_contract (someone else)": lambda s: s.do(
        s.app.leave_contract, s.contract_id, by=OLIVE, person_id=LI
    ),
    "ask_question": lambda s: s.do(
        s.app.ask_question, s.contract_id, by=OLIVE, asked_of=LI, business_area="Ops", text="Why?"
    ),
    "answer_question": lambda s: s.do(
        s.app.answer_question, s.contract_id, s.question_id, by=OLIVE, answer="Because"
    ),
    "propose_expectation": lambda s: s.proposed(by=OLIVE),
    "refine_expectation": lambda s: s.do(
        s.app.refine_expectation, s.expectation_id, by=OLIVE, text="T", terms={}, reason="R"
    ),
    "withdraw_expectation": lambda s: s.do(
        s.app.withdraw_expectation, s.expectation_id, by=OLIVE, reason="R"
    ),
    "merge_expectations": lambda s: s.do(
        s.app.merge_expectations, s.expectation_id, s.duplicate_id, by=OLIVE, reason="R"
    ),
    "give_provider_advice": lambda s: s.do(
        s.app.give_provider_advice, s.expectation_id, by=OLIVE, advice="A"
    ),
    "commit_to_expectation": lambda s: s.do(
        s.app.commit_to_expectation, s.expectation_id, by=OLIVE
    ),
    "decline_expectation": lambda s: s.do(
        s.app.decline_expectation, s.expectation_id, by=OLIVE, reason="R"
    ),
    "propose_obligation": lambda s: s.do(
        s.app.propose_obligation,
        s.contract_id,
        by=OLIVE,
        what="W",
        needed_from=LI,
        due_on="2025-05-01",
    ),
    "accept_obligation": lambda s: s.do(s.app.accept_obligation, s.obligation_id, by=OLIVE),
    "decline_obligation": lambda s: s.do(
        s.app.decline_obligation, s.obligation_id, by=OLIVE, reason="R"
    ),
    "fulfil_obligation": lambda s: s.do(s.app.fulfil_obligation, s.obligation_id, by=OLIVE),
    "breach_obligation": lambda s: s.do(
        s.app.breach_obligation, s.obligation_id, by=OLIVE, what_happened="W"
    ),
    "disclose_risk": lambda s: s.do(
        s.app.disclose_risk,
        s.contract_id,
        by=OLIVE,
        kind="problem",
        title="T",
        description="D",
        likelihood=1,
        impact=1,
    ),
    "acknowledge_risk": lambda s: s.do(s.app.acknowledge_risk, s.risk_id, by=OLIVE),
    "record_remedial_action": lambda s: s.do(
        s.app.record_remedial_action, s.risk_id, by=OLIVE, action="A"
    ),
    "resolve_risk": lambda s: s.do(s.app.resolve_risk, s.risk_id, by=OLIVE, resolution="R"),
    "record_lesson_learned": lambda s: s.do(
        s.app.record_lesson_learned, s.contract_id, by=OLIVE, lesson="L", risk_ids=[s.risk_id]
    ),
    "plan_preventive_action": lambda s: s.do(
        s.app.plan_preventive_action,
        s.lesson_id,
        by=OLIVE,
        action="A",
        owner=SAM,
        due_on="2025-09-01",
    ),
    "record_measurement": lambda s: s.do(
        s.app.record_measurement,
        s.expectation_id,
        by=OLIVE,
        period_start="2025-06-01",
        period_end="2025-06-30",
        value=99,
        source="S",
    ),
    "acknowledge_gap": lambda s: s.do(
        s.app.acknowledge_gap, s.expectation_id, s.measurement_id, by=OLIVE, cause="C"
    ),
    "agree_recovery_plan": lambda s: s.do(
        s.app.agree_recovery_plan,
        s.expectation_id,
        s.gap_id,
        by=OLIVE,
        agreed_with=LI,
        steps=[{"action": "A", "owner": SAM, "due_on": "2025-07-01"}],
    ),
    "complete_recovery_step": lambda s: s.do(
        s.app.complete_recovery_step, s.expectation_id, s.gap_id, 1, by=OLIVE
    ),
}


@pytest.mark.parametrize("command", list(ATTEMPTS))
def test_an_auditor_is_not_permitted_to_change_anything(story: Story, command: str) -> None:
    with story.refused("NOT_PERMITTED"):
        ATTEMPTS[command](story)


def test_an_auditor_reads_the_contract_and_everything_on_it(story: Story) -> None:
    assert OLIVE in story.app.get_contract(story.contract_id).participants
    assert story.app.get_expectation(story.expectation_id).measurements
    assert story.app.get_obligation(story.obligation_id).what
    assert story.app.get_risk(story.risk_id).title
    assert story.app.get_lesson(story.lesson_id).lesson == "Pilot first"
    assert story.app.missing_for_measurable(story.expectation_id) == []
