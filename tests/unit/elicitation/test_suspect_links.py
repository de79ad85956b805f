"""Suspect links: refining an expectation flags what rested on its earlier terms (the
commitment, the obligations that depend on it, the risks that name it, the baselines that hold
it, the published ranking when its wording changed), each with the change that caused it, until
someone who may decide reviews it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from services.elicitation.agreed_set_view import Listed
from services.elicitation.suspect_link import SuspectLink
from services.elicitation.suspect_rule import REVIEWERS, SuspectKind, flag_id, written
from services.elicitation.suspect_view import Candidates
from shared.commands.elicitation import Role
from shared.schemas import registry
from tests.unit.elicitation.story import (
    AMIRA,
    GRACE,
    LI,
    MEASURABLE,
    ROLES,
    SAM,
    STRANGER,
    TOM,
    Story,
)  # fmt: skip

TEXT = "Priority-1 scanner incidents are resolved within 4 hours"


@pytest.fixture
def story() -> Story:
    return Story()


def depending_obligation(story: Story, expectation_id: UUID) -> UUID:
    return story.do(
        story.app.propose_obligation, story.contract_id, by=AMIRA,
        what="Read access to the ticket export", needed_from=LI, due_on="2025-09-30",
        depends_on=[expectation_id],
    ).id  # fmt: skip


def naming_risk(story: Story, expectation_id: UUID) -> UUID:
    return story.do(
        story.app.disclose_risk, story.contract_id, by=SAM, kind="problem",
        title="Ticket export gaps", description="Weekend tickets are exported late",
        likelihood=2, impact=3, prepare_for="", affected_expectations=[expectation_id],
    ).id  # fmt: skip


def refine(
    story: Story, expectation_id: UUID, candidates: Candidates, *, text: str = TEXT, **terms: Any
) -> Any:
    return story.do(
        story.app.refine_expectation, expectation_id, by=AMIRA, text=text,
        terms={**MEASURABLE, **terms}, reason="The client asked for more", candidates=candidates,
    )  # fmt: skip


def flags_of(story: Story, expectation_id: UUID, items: list[UUID]) -> list[SuspectLink]:
    revision = story.app.get_expectation(expectation_id).revision
    found = []
    for item in items:
        try:
            found.append(story.app.get_suspect(flag_id(item, expectation_id, revision)))
        except Exception:
            continue
    return found


def test_refining_a_committed_expectation_flags_its_commitment_obligation_and_risk(
    story: Story,
) -> None:
    expectation = story.committed()
    obligation = depending_obligation(story, expectation)
    risk = naming_risk(story, expectation)
    unrelated = story.obligation()
    candidates = Candidates(obligations=[obligation, unrelated], risks=[risk])

    result = refine(story, expectation, candidates, target="99")

    flags = flags_of(story, expectation, [expectation, obligation, risk, unrelated])
    assert {(f.item_id, f.kind) for f in flags} == {
        (expectation, SuspectKind.COMMITMENT),
        (obligation, SuspectKind.OBLIGATION),
        (risk, SuspectKind.RISK),
    }
    for flag in flags:
        assert flag.open
        assert flag.changes == ({"field": "terms.target", "before": "95", "after": "99"},)
    # The command answers with the expectation and counts only its own event.
    assert result.id == expectation
    assert len(result.positions) == 1


def test_each_flag_is_published_as_its_contract_says(story: Story) -> None:
    expectation = story.committed()
    obligation = depending_obligation(story, expectation)
    refine(story, expectation, Candidates(obligations=[obligation]), unit="percent of tickets")
    [flag] = flags_of(story, expectation, [obligation])
    [stored] = [e for e in story.app.events.get(flag.id)]  # type: ignore[attr-defined]
    data = {k: v for k, v in stored.__dict__.items() if not k.startswith("originator")}
    data.pop("timestamp", None)
    spec = registry.latest("elicitation", "LinkSuspected")
    published = spec.model.model_validate(data)
    assert published.model_dump()["changes"] == [
        {"field": "terms.unit", "before": "percent", "after": "percent of tickets"}
    ]


def test_each_flag_names_who_put_its_item_on_record_as_its_owner(story: Story) -> None:
    expectation = story.committed()
    obligation = depending_obligation(story, expectation)
    risk = naming_risk(story, expectation)
    refine(story, expectation, Candidates(obligations=[obligation], risks=[risk]), target="99")
    owners = {}
    for item in (expectation, obligation, risk):
        [stored] = story.app.events.get(flag_id(item, expectation, 3))  # type: ignore[attr-defined]
        owners[item] = stored.owner
    # The obligation's proposer, the risk's discloser; the commitment is no one person's.
    assert owners == {expectation: "", obligation: AMIRA, risk: SAM}


def test_a_flag_published_before_owners_were_carried_still_reads() -> None:
    spec = registry.latest("elicitation", "LinkSuspected")
    old = {k: v for k, v in dict(spec.example or {}).items() if k != "owner"}
    assert spec.to_data(old)["owner"] == ""


def test_a_refinement_that_changes_nothing_flags_nothing(story: Story) -> None:
    expectation = story.committed()
    obligation = depending_obligation(story, expectation)
    refine(story, expectation, Candidates(obligations=[obligation]))
    assert flags_of(story, expectation, [expectation, obligation]) == []


def test_a_proposed_expectation_has_no_commitment_to_flag(story: Story) -> None:
    expectation = story.measurable()
    refine(story, expectation, Candidates(), target="97")
    assert flags_of(story, expectation, [expectation]) == []


def test_settled_obligations_and_resolved_risks_are_not_flagged(story: Story) -> None:
    expectation = story.committed()
    declined = depending_obligation(story, expectation)
    story.do(story.app.decline_obligation, declined, by=LI, reason="Not needed")
    resolved = naming_risk(story, expectation)
    story.do(story.app.resolve_risk, resolved, by=SAM, resolution="Export fixed")
    refine(story, expectation, Candidates(obligations=[declined], risks=[resolved]), target="99")
    assert flags_of(story, expectation, [declined, resolved]) == []


def test_a_baseline_that_holds_the_earlier_terms_is_flagged_unless_revoked(story: Story) -> None:
    expectation = story.committed()
    listed = Listed([expectation], [], [], None)
    held = story.do(
        story.app.propose_baseline, story.contract_id, by=AMIRA, title="Q3", listed=listed
    ).id
    revoked = story.do(
        story.app.propose_baseline, story.contract_id, by=AMIRA, title="Q2", listed=listed
    ).id
    story.do(story.app.revoke_baseline, revoked, by=AMIRA, reason="Superseded")
    refine(story, expectation, Candidates(baselines=[held, revoked]), target="99")
    assert [f.item_id for f in flags_of(story, expectation, [held, revoked])] == [held]


def test_the_published_ranking_is_suspect_only_when_the_wording_changed(story: Story) -> None:
    expectation = story.committed()
    ranking = {"ranking": [str(expectation)]}
    refine(story, expectation, Candidates(ranking=ranking), target="99")
    assert flags_of(story, expectation, [story.contract_id]) == []
    story.do(story.app.commit_to_expectation, expectation, by=AMIRA)
    refine(story, expectation, Candidates(ranking=ranking), text="P1 incidents fixed in 4 h")
    [flag] = flags_of(story, expectation, [story.contract_id])
    assert flag.kind is SuspectKind.RANKING
    assert flag.changes[0] == {
        "field": "text",
        "before": TEXT,
        "after": "P1 incidents fixed in 4 h",
    }


def test_a_review_clears_every_open_flag_on_the_item(story: Story) -> None:
    expectation = story.committed()
    obligation = depending_obligation(story, expectation)
    refine(story, expectation, Candidates(obligations=[obligation]), target="99")
    first = flags_of(story, expectation, [obligation])[0].id
    refine(story, expectation, Candidates(obligations=[obligation]), target="98")
    second = flags_of(story, expectation, [obligation])[0].id

    story.do(
        story.app.review_suspect, obligation, by=LI, outcome="still_valid",
        reason="Same access is needed", flags=[first, second],
    )  # fmt: skip

    assert not story.app.get_suspect(first).open
    assert not story.app.get_suspect(second).open
    with story.refused("UNKNOWN_SUSPECT"):
        story.do(
            story.app.review_suspect, obligation, by=LI, outcome="still_valid",
            reason="Again", flags=[first, second],
        )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "reviewers"),
    [
        (SuspectKind.COMMITMENT, {SAM, AMIRA}),
        (SuspectKind.OBLIGATION, {SAM, AMIRA, LI, TOM}),
        (SuspectKind.RISK, {SAM, AMIRA}),
        (SuspectKind.BASELINE, {GRACE, AMIRA}),
        (SuspectKind.RANKING, {GRACE, LI, TOM}),
    ],
)
def test_who_may_review_each_kind(kind: SuspectKind, reviewers: set[str]) -> None:
    may = {person for person, role in ROLES.items() if Role(role) in REVIEWERS[kind]}
    assert may - {STRANGER} == reviewers


def test_the_provider_reviews_its_commitment_the_client_may_not(story: Story) -> None:
    expectation = story.committed()
    refine(story, expectation, Candidates(), target="99")
    commitment = flags_of(story, expectation, [expectation])[0].id
    with story.refused("NOT_PERMITTED"):
        story.do(
            story.app.review_suspect, expectation, by=LI, outcome="still_valid",
            reason="Fine by me", flags=[commitment],
        )  # fmt: skip
    story.do(
        story.app.review_suspect, expectation, by=SAM, outcome="needs_change",
        reason="We must commit again to 99", flags=[commitment],
    )  # fmt: skip
    assert story.app.get_suspect(commitment).outcome == "needs_change"


def test_a_refused_review_stores_nothing(story: Story) -> None:
    expectation = story.committed()
    refine(story, expectation, Candidates(), target="99")
    commitment = flags_of(story, expectation, [expectation])[0].id
    with story.refused("INVALID_CHOICE"):
        story.do(
            story.app.review_suspect, expectation, by=AMIRA, outcome="maybe",
            reason="Unsure", flags=[commitment],
        )  # fmt: skip


def test_values_are_written_as_consumers_read_them() -> None:
    from datetime import date
    from decimal import Decimal

    assert written(Decimal("4E+4")) == "40000"
    assert written(date(2025, 9, 30)) == "2025-09-30"
    assert written("") is None
