"""Signed baselines: the agreed set frozen read-only, signed by the client's sponsor and the
provider's account manager with a fresh login, revoked with a reason, never edited."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.elicitation.agreed_set_view import Listed
from services.elicitation.baseline import BaselineStatus
from shared.commands.baselines import Meaning
from shared.schemas import registry
from tests.unit.elicitation.story import AMIRA, GRACE, LI, OLIVE, SAM, STRANGER, Story

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
FIVE_MINUTES = timedelta(minutes=5)
RANKING = {
    "ranking": [],
    "method": "borda",
    "published_at": datetime(2025, 6, 1, 17, 0, tzinfo=UTC),
    "event_id": "published-1",
}


@pytest.fixture
def story() -> Story:
    return Story()


def agreed(story: Story, ranking: dict[str, Any] | None = None) -> Listed:
    """The story's contract with one of each: committed, accepted, acknowledged; and one of
    each that is not agreed (a proposed expectation, a proposed obligation, an unacknowledged
    risk)."""
    committed = story.committed()
    open_one = story.proposed("Dock doors repaired the same day")
    accepted, pending = story.obligation(), story.obligation()
    story.do(story.app.accept_obligation, accepted, by=LI)
    acknowledged, unacknowledged = story.risk(), story.risk()
    story.do(story.app.acknowledge_risk, acknowledged, by=LI)
    return Listed(
        [committed, open_one], [accepted, pending], [acknowledged, unacknowledged], ranking
    )


def propose(story: Story, listed: Listed, by: str = AMIRA) -> UUID:
    result = story.do(
        story.app.propose_baseline, story.contract_id, by=by, title="Q3 scope", listed=listed
    )
    baseline_id: UUID = result.id
    return baseline_id


def sign(
    story: Story, baseline_id: UUID, by: str, *, login: datetime = NOW, meaning: str = "approved"
) -> Any:
    return story.do(
        story.app.sign_baseline,
        baseline_id,
        by=by,
        meaning=meaning,
        authenticated_at=login,
        now=NOW,
        max_age=FIVE_MINUTES,
    )


def test_a_baseline_freezes_only_the_agreed_set_each_at_its_version(story: Story) -> None:
    listed = agreed(story, RANKING)
    baseline = story.app.get_baseline(propose(story, listed))
    content = baseline.content
    assert [e["expectation_id"] for e in content["expectations"]] == [str(listed.expectations[0])]
    assert (
        content["expectations"][0]["version"]
        == story.app.get_expectation(listed.expectations[0]).version
    )
    assert content["expectations"][0]["terms"]["target"] == "95"
    assert [o["obligation_id"] for o in content["obligations"]] == [str(listed.obligations[0])]
    assert [r["risk_id"] for r in content["risks"]] == [str(listed.risks[0])]
    assert content["ranking"]["method"] == "borda"
    assert {p["person_id"] for p in content["participants"]} >= {AMIRA, GRACE, LI, SAM}
    assert baseline.status is BaselineStatus.PROPOSED


def test_the_content_hash_is_sha256_of_the_canonical_json_a_consumer_receives(
    story: Story,
) -> None:
    baseline = story.app.get_baseline(propose(story, agreed(story, RANKING)))
    published = registry.latest("elicitation", "BaselineProposed").to_data(
        {
            "contract_id": baseline.contract_id,
            "baseline_id": baseline.id,
            "title": baseline.title,
            "content": baseline.content,
            "content_hash": baseline.content_hash,
            "required_roles": [r.value for r in baseline.required_roles],
            "proposed_by": AMIRA,
        }
    )
    text = json.dumps(published["content"], sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(text.encode()).hexdigest() == published["content_hash"]


def test_it_is_complete_once_the_sponsor_and_the_account_manager_have_signed(
    story: Story,
) -> None:
    baseline_id = propose(story, agreed(story))
    sign(story, baseline_id, LI, meaning="reviewed")
    sign(story, baseline_id, GRACE)
    assert story.app.get_baseline(baseline_id).status is BaselineStatus.PROPOSED
    sign(story, baseline_id, AMIRA, meaning="responsible")
    baseline = story.app.get_baseline(baseline_id)
    assert baseline.status is BaselineStatus.COMPLETE
    signatures = {s.signer: s for s in baseline.signatures}
    assert signatures[GRACE].printed_name == "Grace Hall"
    assert signatures[GRACE].meaning is Meaning.APPROVED
    assert signatures[AMIRA].signed_at == NOW
    assert {s.content_hash for s in baseline.signatures} == {baseline.content_hash}


def test_a_login_older_than_the_allowed_age_must_be_renewed_to_sign(story: Story) -> None:
    baseline_id = propose(story, agreed(story))
    with story.refused("REAUTHENTICATION_REQUIRED"):
        sign(story, baseline_id, GRACE, login=NOW - FIVE_MINUTES - timedelta(seconds=1))
    sign(story, baseline_id, GRACE, login=NOW - FIVE_MINUTES)


def test_each_person_signs_once(story: Story) -> None:
    baseline_id = propose(story, agreed(story))
    sign(story, baseline_id, GRACE)
    with story.refused("ALREADY_SIGNED"):
        sign(story, baseline_id, GRACE, meaning="reviewed")


def test_only_people_on_the_contract_when_it_was_proposed_sign(story: Story) -> None:
    baseline_id = propose(story, agreed(story))
    with story.refused("NOT_A_PARTICIPANT"):
        sign(story, baseline_id, STRANGER)
    story.do(
        story.app.join_contract,
        story.contract_id,
        by=GRACE,
        person_id="late@harbour.example",
        name="Late Comer",
        role="client_decision_maker",
    )
    with story.refused("NOT_A_SIGNER"):
        sign(story, baseline_id, "late@harbour.example")


def test_only_the_sponsor_or_the_account_manager_proposes_or_revokes(story: Story) -> None:
    listed = agreed(story)
    for person in (LI, SAM, OLIVE):
        with story.refused("NOT_PERMITTED"):
            propose(story, listed, by=person)
    baseline_id = propose(story, listed, by=GRACE)
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.revoke_baseline, baseline_id, by=SAM, reason="Outdated")


def test_a_revoked_baseline_keeps_its_content_and_takes_no_signature(story: Story) -> None:
    baseline_id = propose(story, agreed(story))
    sign(story, baseline_id, GRACE)
    before = story.app.get_baseline(baseline_id).content_hash
    story.do(story.app.revoke_baseline, baseline_id, by=AMIRA, reason="Targets renegotiated")
    baseline = story.app.get_baseline(baseline_id)
    assert baseline.status is BaselineStatus.REVOKED
    assert baseline.revocation_reason == "Targets renegotiated"
    assert baseline.content_hash == before and len(baseline.signatures) == 1
    with story.refused("BASELINE_REVOKED"):
        sign(story, baseline_id, AMIRA)
    with story.refused("BASELINE_REVOKED"):
        story.do(story.app.revoke_baseline, baseline_id, by=GRACE, reason="Again")


def test_a_revocation_needs_a_reason(story: Story) -> None:
    baseline_id = propose(story, agreed(story))
    with story.refused("TEXT_EMPTY"):
        story.do(story.app.revoke_baseline, baseline_id, by=AMIRA, reason="  ")


def test_a_baseline_has_no_command_that_edits_it(story: Story) -> None:
    baseline = story.app.get_baseline(propose(story, agreed(story)))
    commands = {name for name in vars(type(baseline)) if not name.startswith("_")}
    assert commands & {"edit", "change", "update", "amend", "rename"} == set()
    assert {"sign", "revoke"} <= commands


def test_an_unknown_baseline_is_refused_by_name(story: Story) -> None:
    with story.refused("UNKNOWN_BASELINE"):
        sign(story, story.contract_id, GRACE)
