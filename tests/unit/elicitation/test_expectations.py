"""Expectations: proposed by the client, refined by the provider until measurable, withdrawn,
merged, advised on, and committed to or declined."""

import json
from decimal import Decimal
from uuid import uuid4

import pytest

from services.elicitation.expectation import ExpectationStatus, status_after_refinement
from services.elicitation.terms import MeasurableTerms
from shared.commands.elicitation import Comparison, Feasibility, Importance, Recurrence
from tests.unit.elicitation.story import (
    AMIRA,
    GRACE,
    LI,
    MEASURABLE,
    OLIVE,
    SAM,
    TOM,
    Story,
)


@pytest.fixture
def story() -> Story:
    return Story()


def refine(story: Story, expectation_id, terms=None, text="Reworded", **kwargs):
    return story.do(
        story.app.refine_expectation,
        expectation_id,
        by=kwargs.pop("by", AMIRA),
        text=text,
        terms=MEASURABLE if terms is None else terms,
        reason=kwargs.pop("reason", "Clarified with the client"),
        **kwargs,
    )


# Proposing


def test_a_client_decision_maker_proposes_an_expectation_in_their_own_words(story: Story) -> None:
    expectation = story.app.get_expectation(story.proposed("Scanners fixed fast"))
    assert expectation.text == "Scanners fixed fast"
    assert expectation.proposers == (LI,)
    assert expectation.revision == 1
    assert expectation.status is ExpectationStatus.PROPOSED
    assert expectation.contract_id == story.contract_id


@pytest.mark.parametrize("person", [AMIRA, SAM, GRACE, OLIVE])
def test_only_client_decision_makers_propose_expectations(story: Story, person: str) -> None:
    with story.refused("NOT_PERMITTED"):
        story.proposed(by=person)


def test_an_empty_expectation_is_refused(story: Story) -> None:
    with story.refused("TEXT_EMPTY") as refusal:
        story.proposed("   ")
    assert refusal.value.details["field"] == "text"


def test_an_expectation_over_two_thousand_characters_is_refused(story: Story) -> None:
    story.proposed("x" * 2000)
    with story.refused("TEXT_TOO_LONG") as refusal:
        story.proposed("x" * 2001)
    assert refusal.value.details == {"field": "text", "limit": 2000, "length": 2001}


def test_a_new_expectation_is_not_yet_measurable_and_says_what_is_missing(story: Story) -> None:
    assert story.app.missing_for_measurable(story.proposed()) == [
        "metric",
        "comparison",
        "target",
        "unit",
        "measurement_method",
    ]


# Refining


def test_each_refinement_is_a_new_revision_with_its_terms_and_reason(story: Story) -> None:
    expectation_id = story.proposed("Scanners fixed fast")
    refine(story, expectation_id, {"metric": "P1 resolution"}, text="P1 fixed fast")
    refine(story, expectation_id, MEASURABLE, text="P1 in 4 hours", reason="Target agreed")
    expectation = story.app.get_expectation(expectation_id)
    assert [r.text for r in expectation.revisions] == [
        "Scanners fixed fast",
        "P1 fixed fast",
        "P1 in 4 hours",
    ]
    assert expectation.revision == 3
    assert expectation.revisions[-1].reason == "Target agreed"
    assert expectation.revisions[-1].by == AMIRA
    assert expectation.terms == MeasurableTerms(
        metric="Priority-1 incidents resolved within 4 hours",
        comparison=Comparison.AT_LEAST,
        target=Decimal("95"),
        unit="percent",
        recurrence=Recurrence.MONTHLY,
        measurement_method="Service desk ticket export",
        measured_by="Client service management office",
    )


def test_an_expectation_is_measurable_once_it_has_metric_target_unit_and_method(
    story: Story,
) -> None:
    expectation_id = story.proposed()
    refine(story, expectation_id, {"metric": "P1 resolution", "unit": "percent"})
    assert story.app.missing_for_measurable(expectation_id) == [
        "comparison",
        "target",
        "measurement_method",
    ]
    refine(story, expectation_id, MEASURABLE)
    assert story.app.missing_for_measurable(expectation_id) == []
    assert story.app.get_expectation(expectation_id).is_measurable


def test_a_range_needs_both_bounds_to_be_measurable(story: Story) -> None:
    expectation_id = story.proposed()
    refine(story, expectation_id, {**MEASURABLE, "comparison": "within_range", "target": "18"})
    assert story.app.missing_for_measurable(expectation_id) == ["target_upper"]


@pytest.mark.parametrize("person", [LI, GRACE, OLIVE])
def test_only_the_providers_team_refines_expectations(story: Story, person: str) -> None:
    expectation_id = story.proposed()
    with story.refused("NOT_PERMITTED"):
        refine(story, expectation_id, by=person)


def test_a_delivery_lead_refines_as_well_as_the_account_manager(story: Story) -> None:
    expectation_id = story.proposed()
    refine(story, expectation_id, by=SAM)
    assert story.app.get_expectation(expectation_id).revisions[-1].by == SAM


@pytest.mark.parametrize("target", ["ninety-five", "", True, float("nan"), "95%"])
def test_a_target_that_is_not_a_number_is_refused(story: Story, target) -> None:
    expectation_id = story.proposed()
    terms = {**MEASURABLE, "target": target}
    if target == "":
        # Blank means "not given yet" while refining, so it is missing rather than wrong.
        refine(story, expectation_id, terms)
        assert "target" in story.app.missing_for_measurable(expectation_id)
        return
    with story.refused("TARGET_NOT_NUMERIC"):
        refine(story, expectation_id, terms)


def test_an_inverted_target_range_is_refused(story: Story) -> None:
    expectation_id = story.proposed()
    with story.refused("TARGET_RANGE_INVERTED"):
        refine(
            story,
            expectation_id,
            {**MEASURABLE, "comparison": "within_range", "target": 22, "target_upper": 18},
        )


def test_an_upper_bound_belongs_only_to_a_range(story: Story) -> None:
    expectation_id = story.proposed()
    with story.refused("RANGE_BOUND_UNEXPECTED"):
        refine(story, expectation_id, {**MEASURABLE, "target_upper": 99})


def test_a_deadline_before_the_contract_starts_is_refused(story: Story) -> None:
    expectation_id = story.proposed()
    terms = {**MEASURABLE, "recurrence": None}
    refine(story, expectation_id, {**terms, "deadline": "2025-04-01"})
    with story.refused("DEADLINE_BEFORE_CONTRACT_START") as refusal:
        refine(story, expectation_id, {**terms, "deadline": "2025-03-31"})
    assert refusal.value.details == {"deadline": "2025-03-31", "starts_on": "2025-04-01"}


def test_an_expectation_has_a_deadline_or_a_recurrence_not_both(story: Story) -> None:
    expectation_id = story.proposed()
    with story.refused("DEADLINE_AND_RECURRENCE"):
        refine(story, expectation_id, {**MEASURABLE, "deadline": "2025-06-30"})


def test_an_unknown_comparison_is_refused(story: Story) -> None:
    expectation_id = story.proposed()
    with story.refused("INVALID_CHOICE"):
        refine(story, expectation_id, {**MEASURABLE, "comparison": "roughly"})


def test_an_unknown_term_is_refused_rather_than_ignored(story: Story) -> None:
    expectation_id = story.proposed()
    with story.refused("INVALID_CHOICE"):
        refine(story, expectation_id, {**MEASURABLE, "targte": 95})


def test_a_refinement_needs_a_reason(story: Story) -> None:
    expectation_id = story.proposed()
    with story.refused("TEXT_EMPTY"):
        refine(story, expectation_id, reason="")


def test_refining_an_unknown_expectation_is_refused(story: Story) -> None:
    with story.refused("UNKNOWN_EXPECTATION"):
        refine(story, uuid4())


def test_a_refinement_based_on_a_stale_version_is_refused_as_a_conflict(story: Story) -> None:
    expectation_id = story.proposed()
    refine(story, expectation_id, expected_version=1)
    with story.refused("CONFLICT") as refusal:
        refine(story, expectation_id, text="Someone else's wording", expected_version=1)
    assert refusal.value.details["expected_version"] == 1
    assert refusal.value.details["version"] == 2


# Withdrawing


def test_the_proposer_withdraws_an_expectation_with_a_reason(story: Story) -> None:
    expectation_id = story.proposed()
    story.do(story.app.withdraw_expectation, expectation_id, by=LI, reason="Covered elsewhere")
    expectation = story.app.get_expectation(expectation_id)
    assert expectation.status is ExpectationStatus.WITHDRAWN
    assert expectation.withdrawal_reason == "Covered elsewhere"


def test_the_client_sponsor_may_withdraw_any_expectation(story: Story) -> None:
    expectation_id = story.proposed()
    story.do(story.app.withdraw_expectation, expectation_id, by=GRACE, reason="Out of scope")
    assert story.app.get_expectation(expectation_id).status is ExpectationStatus.WITHDRAWN


@pytest.mark.parametrize("person", [TOM, AMIRA, OLIVE])
def test_nobody_else_withdraws_someone_elses_expectation(story: Story, person: str) -> None:
    expectation_id = story.proposed()
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.withdraw_expectation, expectation_id, by=person, reason="Mine now")


def test_a_withdrawn_expectation_cannot_be_refined(story: Story) -> None:
    expectation_id = story.proposed()
    story.do(story.app.withdraw_expectation, expectation_id, by=LI, reason="Covered elsewhere")
    with story.refused("EXPECTATION_WITHDRAWN"):
        refine(story, expectation_id)


def test_a_withdrawn_expectation_cannot_be_withdrawn_again(story: Story) -> None:
    expectation_id = story.proposed()
    story.do(story.app.withdraw_expectation, expectation_id, by=LI, reason="Covered elsewhere")
    with story.refused("EXPECTATION_WITHDRAWN"):
        story.do(story.app.withdraw_expectation, expectation_id, by=LI, reason="Again")


# Merging


def test_merged_duplicates_become_one_and_both_proposers_stay_on_record(story: Story) -> None:
    kept = story.proposed("Scanners fixed fast", by=LI)
    duplicate = story.proposed("Handhelds repaired the same day", by=TOM)
    merged = story.do(story.app.merge_expectations, kept, duplicate, by=AMIRA, reason="Same need")
    assert merged.id == kept
    assert len(merged.positions) == 2  # the merge is on both streams, stored together
    survivor = story.app.get_expectation(kept)
    absorbed = story.app.get_expectation(duplicate)
    assert survivor.proposers == absorbed.proposers == (LI, TOM)
    assert survivor.merged_from == (duplicate,)
    assert absorbed.status is ExpectationStatus.MERGED
    assert absorbed.merged_into == kept


def test_a_merged_expectation_points_to_the_one_it_became(story: Story) -> None:
    kept, duplicate = story.proposed(by=LI), story.proposed(by=TOM)
    story.do(story.app.merge_expectations, kept, duplicate, by=LI, reason="Same need")
    with story.refused("EXPECTATION_MERGED") as refusal:
        refine(story, duplicate)
    assert refusal.value.details["merged_into"] == str(kept)


def test_an_expectation_is_not_merged_with_itself(story: Story) -> None:
    kept = story.proposed()
    with story.refused("MERGE_WITH_ITSELF"):
        story.do(story.app.merge_expectations, kept, kept, by=AMIRA, reason="Same")


def test_expectations_of_different_contracts_are_not_merged(story: Story) -> None:
    ours, theirs = story.proposed(), Story(story.app).proposed()
    with story.refused("DIFFERENT_CONTRACTS"):
        story.do(story.app.merge_expectations, ours, theirs, by=AMIRA, reason="Same")


def test_a_withdrawn_expectation_is_not_merged(story: Story) -> None:
    kept, duplicate = story.proposed(by=LI), story.proposed(by=TOM)
    story.do(story.app.withdraw_expectation, duplicate, by=TOM, reason="Dropped")
    with story.refused("EXPECTATION_WITHDRAWN"):
        story.do(story.app.merge_expectations, kept, duplicate, by=AMIRA, reason="Same")


def test_an_auditor_does_not_merge_expectations(story: Story) -> None:
    kept, duplicate = story.proposed(by=LI), story.proposed(by=TOM)
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.merge_expectations, kept, duplicate, by=OLIVE, reason="Same")


# The provider's view


def test_provider_advice_is_recorded_against_the_revision_it_was_given_on(story: Story) -> None:
    expectation_id = story.measurable()
    story.do(
        story.app.give_provider_advice,
        expectation_id,
        by=SAM,
        importance="high",
        feasibility="stretch",
        advice="Needs spare scanners on site",
    )
    (advice,) = story.app.get_expectation(expectation_id).advice
    assert (advice.revision, advice.importance, advice.feasibility, advice.by) == (
        2,
        Importance.HIGH,
        Feasibility.STRETCH,
        SAM,
    )


def test_advice_may_leave_importance_and_feasibility_unsaid(story: Story) -> None:
    expectation_id = story.proposed()
    story.do(story.app.give_provider_advice, expectation_id, by=AMIRA, advice="Talk to IT")
    (advice,) = story.app.get_expectation(expectation_id).advice
    assert advice.importance is None and advice.feasibility is None


def test_advice_on_an_unknown_scale_is_refused(story: Story) -> None:
    expectation_id = story.proposed()
    with story.refused("INVALID_CHOICE"):
        story.do(
            story.app.give_provider_advice,
            expectation_id,
            by=AMIRA,
            importance="top",
            advice="Very important",
        )


def test_the_client_does_not_give_provider_advice(story: Story) -> None:
    expectation_id = story.proposed()
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.give_provider_advice, expectation_id, by=LI, advice="Mine matters")


def test_the_provider_commits_to_the_latest_measurable_revision(story: Story) -> None:
    expectation_id = story.measurable()
    story.do(story.app.commit_to_expectation, expectation_id, by=AMIRA, note="Spares on site")
    expectation = story.app.get_expectation(expectation_id)
    assert expectation.status is ExpectationStatus.COMMITTED
    assert expectation.decided_revision == 2


def test_the_provider_never_commits_to_what_is_not_measurable(story: Story) -> None:
    expectation_id = story.proposed()
    with story.refused("NOT_MEASURABLE") as refusal:
        story.do(story.app.commit_to_expectation, expectation_id, by=AMIRA)
    assert refusal.value.details["missing"] == [
        "metric",
        "comparison",
        "target",
        "unit",
        "measurement_method",
    ]


def test_the_provider_declines_with_a_reason(story: Story) -> None:
    expectation_id = story.proposed("Zero downtime")
    story.do(story.app.decline_expectation, expectation_id, by=AMIRA, reason="One data centre only")
    expectation = story.app.get_expectation(expectation_id)
    assert expectation.status is ExpectationStatus.DECLINED
    assert expectation.decline_reason == "One data centre only"


def test_declining_without_a_reason_is_refused(story: Story) -> None:
    expectation_id = story.proposed()
    with story.refused("TEXT_EMPTY"):
        story.do(story.app.decline_expectation, expectation_id, by=AMIRA, reason="")


def test_the_same_decision_on_the_same_revision_is_refused(story: Story) -> None:
    expectation_id = story.committed()
    with story.refused("EXPECTATION_ALREADY_DECIDED"):
        story.do(story.app.commit_to_expectation, expectation_id, by=AMIRA)


def test_the_provider_may_change_its_mind_and_decline_what_it_committed_to(story: Story) -> None:
    expectation_id = story.committed()
    story.do(story.app.decline_expectation, expectation_id, by=AMIRA, reason="Vendor gone")
    assert story.app.get_expectation(expectation_id).status is ExpectationStatus.DECLINED


def test_refining_a_committed_expectation_waits_for_a_new_decision(story: Story) -> None:
    expectation_id = story.committed()
    refine(story, expectation_id, {**MEASURABLE, "target": "97"})
    expectation = story.app.get_expectation(expectation_id)
    assert expectation.status is ExpectationStatus.PROPOSED
    assert expectation.decided_revision == 2 and expectation.revision == 3
    story.do(story.app.commit_to_expectation, expectation_id, by=AMIRA)
    assert story.app.get_expectation(expectation_id).decided_revision == 3


def test_a_refinement_carries_the_status_it_leaves_for_read_models_to_take(story: Story) -> None:
    expectation_id = story.committed()
    refine(story, expectation_id, {**MEASURABLE, "target": "97"})
    [refined] = [
        n for n in story.app.recorder.select_notifications(1, 10_000)
        if n.originator_id == expectation_id and n.topic.endswith("ExpectationRefined")
    ][-1:]  # fmt: skip
    assert json.loads(refined.state)["status"] == "proposed"


def test_a_refinement_reopens_a_decision_and_leaves_an_open_expectation_open() -> None:
    for decided in (ExpectationStatus.COMMITTED, ExpectationStatus.DECLINED):
        assert status_after_refinement(decided) is ExpectationStatus.PROPOSED
    assert status_after_refinement(ExpectationStatus.PROPOSED) is ExpectationStatus.PROPOSED


@pytest.mark.parametrize("person", [LI, GRACE, OLIVE])
def test_only_the_providers_team_commits_or_declines(story: Story, person: str) -> None:
    expectation_id = story.measurable()
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.commit_to_expectation, expectation_id, by=person)
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.decline_expectation, expectation_id, by=person, reason="No")
