"""A contract's deadline policy: set by the provider's account manager, thresholds in percent of
a promise's time, and a risk's acknowledgement window, published as ISO 8601 text."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.elicitation.application import Elicitation
from tests.unit.elicitation.story import AMIRA, GRACE, LI, OLIVE, SAM, Story


@pytest.fixture
def story() -> Story:
    return Story()


def policy_events(app: Elicitation) -> list[dict[str, object]]:
    found = app.recorder.select_notifications(start=1, limit=10_000)
    return [
        app.mapper.to_domain_event(n).__dict__
        for n in found
        if n.topic.endswith("DeadlinePolicySet")
    ]


def test_the_account_manager_sets_thresholds_each_once_in_order_and_the_window(
    story: Story,
) -> None:
    story.do(
        story.app.set_deadline_policy, story.contract_id, by=AMIRA, thresholds=[90, 50, 75, 50],
        acknowledgement_window=timedelta(hours=36),
    )  # fmt: skip

    (policy,) = policy_events(story.app)
    assert policy["thresholds"] == [50, 75, 90]
    assert policy["acknowledgement_window"] == "P1DT12H"
    assert policy["set_by"] == AMIRA


def test_a_policy_may_warn_only_at_the_deadline(story: Story) -> None:
    story.do(
        story.app.set_deadline_policy, story.contract_id, by=AMIRA, thresholds=[],
        acknowledgement_window="PT4H",
    )  # fmt: skip

    (policy,) = policy_events(story.app)
    assert policy["thresholds"] == []
    assert policy["acknowledgement_window"] == "PT4H"


@pytest.mark.parametrize("person", [SAM, GRACE, LI, OLIVE])
def test_only_the_providers_account_manager_sets_the_policy(story: Story, person: str) -> None:
    with story.refused("NOT_PERMITTED"):
        story.do(
            story.app.set_deadline_policy, story.contract_id, by=person, thresholds=[50],
            acknowledgement_window="P1D",
        )  # fmt: skip


@pytest.mark.parametrize("threshold", [0, 100, 150, -5])
def test_a_threshold_is_a_percent_strictly_between_start_and_deadline(
    story: Story, threshold: int
) -> None:
    with story.refused("SCORE_OUT_OF_RANGE"):
        story.do(
            story.app.set_deadline_policy, story.contract_id, by=AMIRA,
            thresholds=[50, threshold], acknowledgement_window="P1D",
        )  # fmt: skip


@pytest.mark.parametrize("window", ["PT0S", "-P1D", "P5000D", "soon"])
def test_the_acknowledgement_window_is_a_positive_duration_of_at_most_ten_years(
    story: Story, window: str
) -> None:
    with story.refused("VALUE_OUT_OF_RANGE"):
        story.do(
            story.app.set_deadline_policy, story.contract_id, by=AMIRA, thresholds=[50],
            acknowledgement_window=window,
        )  # fmt: skip
