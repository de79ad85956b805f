"""A notice is read by people: it names what an expectation still lacks in plain words."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from services.notifications.messages import render
from services.notifications.policies import Trigger
from services.notifications.snapshot import ContractSnapshot
from services.notifications.source import SourceEvent


def test_a_refinement_not_yet_measurable_says_what_is_missing_in_words() -> None:
    refined = SourceEvent(
        id="e-1", name="ExpectationRefined", time=datetime(2027, 1, 5, tzinfo=UTC),
        data={"expectation_id": "x-1", "revision": 2, "text": "Tills work", "refined_by": "am",
              "reason": "a first measure", "measurable": False,
              "missing_for_measurable": ["target_upper", "measurement_method"]},
    )  # fmt: skip
    message = render(Trigger.EXPECTATION_REFINED, refined, ContractSnapshot(uuid4()))
    assert message.text.endswith(
        "Still missing to be measurable: target upper, measurement method."
    )
    assert "_" not in message.text
