"""Assumptions: the provider's team records what its delivery assumes on a contract, with who
and why; the client's people and strangers may not, and an empty assumption is refused."""

from __future__ import annotations

import pytest

from services.elicitation.assumption import Assumption
from tests.unit.elicitation.story import AMIRA, LI, SAM, STRANGER, Story


@pytest.fixture
def story() -> Story:
    return Story()


def test_the_delivery_lead_records_an_assumption_with_who_and_why(story: Story) -> None:
    recorded = story.do(
        story.app.record_assumption, story.contract_id, by=SAM,
        text="  Stores keep their till hardware until 2028 ", why="The target was costed on it",
    )  # fmt: skip
    assumption = story.app.repository.get(recorded.id)
    assert isinstance(assumption, Assumption)
    assert assumption.contract_id == story.contract_id
    assert (assumption.text, assumption.why, assumption.recorded_by) == (
        "Stores keep their till hardware until 2028", "The target was costed on it", SAM,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("person", "code"), [(LI, "NOT_PERMITTED"), (STRANGER, "NOT_A_PARTICIPANT")]
)
def test_no_one_but_the_providers_team_records_one(story: Story, person: str, code: str) -> None:
    with story.refused(code):
        story.do(story.app.record_assumption, story.contract_id, by=person, text="x", why="y")


def test_an_assumption_without_a_reason_is_refused(story: Story) -> None:
    with story.refused("TEXT_EMPTY"):
        story.do(story.app.record_assumption, story.contract_id, by=AMIRA, text="x", why="  ")
