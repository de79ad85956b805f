"""Delivery: measurements judged against the terms, gaps acknowledged, recovery plans agreed
and carried out."""

from decimal import Decimal
from uuid import uuid4

import pytest

from services.elicitation.expectation import ExpectationStatus
from tests.unit.elicitation.story import AMIRA, GRACE, LI, MEASURABLE, OLIVE, SAM, STRANGER, Story


@pytest.fixture
def story() -> Story:
    return Story()


def missed(story: Story) -> tuple:
    """A committed expectation (at least 95 percent) and a May measurement of 91.5."""
    expectation_id = story.committed()
    measurement_id = story.measured(expectation_id, "91.5").created
    return expectation_id, measurement_id


def gap_on(story: Story):
    expectation_id, measurement_id = missed(story)
    gap_id = story.do(
        story.app.acknowledge_gap,
        expectation_id,
        measurement_id,
        by=AMIRA,
        cause="Two engineers left",
    ).created
    return expectation_id, gap_id


def plan(story: Story, expectation_id, gap_id, **changes):
    fields = {
        "by": AMIRA,
        "agreed_with": LI,
        "steps": [
            {"action": "Hire two night engineers", "owner": SAM, "due_on": "2025-07-15"},
            {"action": "Approve site badges", "owner": LI, "due_on": "2025-07-22"},
        ],
    }
    fields.update(changes)
    return story.do(story.app.agree_recovery_plan, expectation_id, gap_id, **fields)


@pytest.mark.parametrize(
    ("terms", "value", "met", "shortfall"),
    [
        ({"comparison": "at_least", "target": "95"}, "96.2", True, "0"),
        ({"comparison": "at_least", "target": "95"}, "95", True, "0"),
        ({"comparison": "at_least", "target": "95"}, "91.5", False, "3.5"),
        ({"comparison": "at_most", "target": "4"}, "3.5", True, "0"),
        ({"comparison": "at_most", "target": "4"}, "6.25", False, "2.25"),
        ({"comparison": "equal", "target": "100"}, "100", True, "0"),
        ({"comparison": "equal", "target": "100"}, "98", False, "2"),
        ({"comparison": "within_range", "target": "18", "target_upper": "22"}, "20", True, "0"),
        ({"comparison": "within_range", "target": "18", "target_upper": "22"}, "17", False, "1"),
        (
            {"comparison": "within_range", "target": "18", "target_upper": "22"},
            "23.5",
            False,
            "1.5",
        ),
    ],
)
def test_whether_a_measurement_met_its_target_is_computed_from_the_terms(
    story: Story, terms, value, met, shortfall
) -> None:
    expectation_id = story.committed({**MEASURABLE, **terms})
    recorded = story.measured(expectation_id, value)
    measurement = story.app.get_expectation(expectation_id).measurements[recorded.created]
    assert measurement.met is met
    assert measurement.shortfall == Decimal(shortfall)
    assert measurement.value == Decimal(value)
    assert measurement.revision == 2


def test_a_measurement_keeps_its_period_and_source(story: Story) -> None:
    expectation_id = story.committed()
    recorded = story.measured(expectation_id, 97)
    measurement = story.app.get_expectation(expectation_id).measurements[recorded.created]
    assert str(measurement.period_start) == "2025-05-01"
    assert str(measurement.period_end) == "2025-05-31"
    assert measurement.source == "Ticket export, May"
    assert measurement.recorded_by == SAM


def test_only_a_measurable_expectation_is_measured(story: Story) -> None:
    expectation_id = story.proposed()
    with story.refused("NOT_MEASURABLE"):
        story.measured(expectation_id, "90")


def test_a_measured_value_must_be_a_number(story: Story) -> None:
    expectation_id = story.committed()
    with story.refused("VALUE_NOT_NUMERIC"):
        story.measured(expectation_id, "about ninety")


def test_a_period_that_ends_before_it_starts_is_refused(story: Story) -> None:
    expectation_id = story.committed()
    with story.refused("PERIOD_INVERTED"):
        story.do(
            story.app.record_measurement,
            expectation_id,
            by=SAM,
            period_start="2025-05-31",
            period_end="2025-05-01",
            value=96,
            source="Export",
        )


@pytest.mark.parametrize("person", [LI, GRACE, OLIVE])
def test_only_the_providers_team_records_measurements(story: Story, person: str) -> None:
    expectation_id = story.committed()
    with story.refused("NOT_PERMITTED"):
        story.do(
            story.app.record_measurement,
            expectation_id,
            by=person,
            period_start="2025-05-01",
            period_end="2025-05-31",
            value=99,
            source="Our own count",
        )


def test_the_provider_acknowledges_a_shortfall_with_its_cause(story: Story) -> None:
    expectation_id, gap_id = gap_on(story)
    gap = story.app.get_expectation(expectation_id).gaps[gap_id]
    assert gap.shortfall == Decimal("3.5")
    assert gap.cause == "Two engineers left"
    assert gap.acknowledged_by == AMIRA
    assert not gap.has_plan


def test_there_is_no_gap_to_acknowledge_when_the_target_was_met(story: Story) -> None:
    expectation_id = story.committed()
    measurement_id = story.measured(expectation_id, "99").created
    with story.refused("TARGET_MET"):
        story.do(story.app.acknowledge_gap, expectation_id, measurement_id, by=AMIRA, cause="None")


def test_a_shortfall_is_acknowledged_once(story: Story) -> None:
    expectation_id, measurement_id = missed(story)
    story.do(story.app.acknowledge_gap, expectation_id, measurement_id, by=AMIRA, cause="Staff")
    with story.refused("GAP_ALREADY_ACKNOWLEDGED"):
        story.do(story.app.acknowledge_gap, expectation_id, measurement_id, by=SAM, cause="Again")


def test_acknowledging_a_gap_on_an_unknown_measurement_is_refused(story: Story) -> None:
    expectation_id = story.committed()
    with story.refused("UNKNOWN_MEASUREMENT"):
        story.do(story.app.acknowledge_gap, expectation_id, uuid4(), by=AMIRA, cause="Staff")


def test_the_client_does_not_acknowledge_the_providers_gaps(story: Story) -> None:
    expectation_id, measurement_id = missed(story)
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.acknowledge_gap, expectation_id, measurement_id, by=LI, cause="Staff")


def test_a_recovery_plan_has_steps_with_owners_and_dates(story: Story) -> None:
    expectation_id, gap_id = gap_on(story)
    plan(story, expectation_id, gap_id)
    gap = story.app.get_expectation(expectation_id).gaps[gap_id]
    assert [(s.step, s.owner, str(s.due_on)) for s in gap.steps] == [
        (1, SAM, "2025-07-15"),
        (2, LI, "2025-07-22"),
    ]
    assert gap.agreed_with == LI
    assert story.app.get_expectation(expectation_id).revision == 2


def test_a_revised_target_the_client_agreed_becomes_a_new_revision_still_committed(
    story: Story,
) -> None:
    expectation_id, gap_id = gap_on(story)
    plan(story, expectation_id, gap_id, revised_target="92")
    expectation = story.app.get_expectation(expectation_id)
    assert expectation.revision == 3
    assert expectation.terms.target == Decimal("92")
    assert expectation.status is ExpectationStatus.COMMITTED
    assert expectation.decided_revision == 3
    # The next measurement is judged against the revised target.
    recorded = story.measured(expectation_id, "92.5")
    assert story.app.get_expectation(expectation_id).measurements[recorded.created].met


def test_a_revised_range_must_not_be_inverted(story: Story) -> None:
    expectation_id = story.committed(
        {**MEASURABLE, "comparison": "within_range", "target": "18", "target_upper": "22"}
    )
    measurement_id = story.measured(expectation_id, "25").created
    gap_id = story.do(
        story.app.acknowledge_gap, expectation_id, measurement_id, by=AMIRA, cause="Heat"
    ).created
    with story.refused("TARGET_RANGE_INVERTED"):
        plan(story, expectation_id, gap_id, revised_target="24", revised_target_upper="19")
    with story.refused("TARGET_NOT_NUMERIC"):
        plan(story, expectation_id, gap_id, revised_target="24")


def test_a_recovery_plan_is_agreed_with_a_client_decision_maker(story: Story) -> None:
    expectation_id, gap_id = gap_on(story)
    with story.refused("WRONG_ROLE"):
        plan(story, expectation_id, gap_id, agreed_with=GRACE)


def test_a_recovery_plan_has_at_least_one_step(story: Story) -> None:
    expectation_id, gap_id = gap_on(story)
    with story.refused("PLAN_HAS_NO_STEPS"):
        plan(story, expectation_id, gap_id, steps=[])


def test_each_step_is_owned_by_someone_on_the_contract(story: Story) -> None:
    expectation_id, gap_id = gap_on(story)
    with story.refused("NOT_A_PARTICIPANT"):
        plan(
            story,
            expectation_id,
            gap_id,
            steps=[{"action": "Hire", "owner": STRANGER, "due_on": "2025-07-15"}],
        )


def test_each_step_has_a_date(story: Story) -> None:
    expectation_id, gap_id = gap_on(story)
    with story.refused("DATE_INVALID"):
        plan(story, expectation_id, gap_id, steps=[{"action": "Hire", "owner": SAM}])


def test_a_gap_has_one_agreed_recovery_plan(story: Story) -> None:
    expectation_id, gap_id = gap_on(story)
    plan(story, expectation_id, gap_id)
    with story.refused("RECOVERY_PLAN_ALREADY_AGREED"):
        plan(story, expectation_id, gap_id)


def test_a_plan_for_an_unknown_gap_is_refused(story: Story) -> None:
    expectation_id = story.committed()
    with story.refused("UNKNOWN_GAP"):
        plan(story, expectation_id, uuid4())


def test_a_steps_owner_completes_it_even_on_the_clients_side(story: Story) -> None:
    expectation_id, gap_id = gap_on(story)
    plan(story, expectation_id, gap_id)
    story.do(story.app.complete_recovery_step, expectation_id, gap_id, 2, by=LI, note="Issued")
    story.do(story.app.complete_recovery_step, expectation_id, gap_id, 1, by=AMIRA)
    gap = story.app.get_expectation(expectation_id).gaps[gap_id]
    assert [(s.completed, s.completed_by) for s in gap.steps] == [(True, AMIRA), (True, LI)]
    assert gap.recovered


def test_a_client_person_does_not_complete_a_step_they_do_not_own(story: Story) -> None:
    expectation_id, gap_id = gap_on(story)
    plan(story, expectation_id, gap_id)
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.complete_recovery_step, expectation_id, gap_id, 1, by=LI)


def test_a_step_is_completed_once(story: Story) -> None:
    expectation_id, gap_id = gap_on(story)
    plan(story, expectation_id, gap_id)
    story.do(story.app.complete_recovery_step, expectation_id, gap_id, 1, by=SAM)
    with story.refused("STEP_ALREADY_COMPLETED"):
        story.do(story.app.complete_recovery_step, expectation_id, gap_id, 1, by=SAM)


def test_completing_a_step_the_plan_does_not_have_is_refused(story: Story) -> None:
    expectation_id, gap_id = gap_on(story)
    plan(story, expectation_id, gap_id)
    with story.refused("UNKNOWN_RECOVERY_STEP"):
        story.do(story.app.complete_recovery_step, expectation_id, gap_id, 3, by=SAM)
