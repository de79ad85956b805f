"""The evidence pack's page: what changed between versions, every typed value shown as text
and never as markup, and a tampered log or baseline said plainly."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.evidence_html import render
from accord.evidence_pack import (
    Ballot,
    Baseline,
    Change,
    CheckedAgainst,
    Contract,
    ExpectationHistory,
    Happening,
    InvalidContractId,
    Pack,
    Participant,
    Prioritization,
    ServiceCheck,
    Signature,
    Verification,
    Version,
    changes,
    contract_id_of,
)
from shared.audit.checkpoint import sign
from tests.e2e.browser import Dom

AT = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)
# What a participant might type to make a reader's browser run their script or fetch.
TYPED = "</style></title><script>alert(1)</script><img src=http://x.example/ onerror=alert(2)>\"'&"
EXPECTATION = "4f0d8a52-8a7c-4df1-9a55-3c1e1d0f7a11"


def a_pack(typed: str = "plain", *, findings: tuple[str, ...] = ()) -> Pack:
    """A pack with `typed` in every value a person could have written."""
    checkpoint = sign("elicitation", [], Ed25519PrivateKey.generate(), now=AT)
    return Pack(
        contract=Contract(
            "c0ffee00-0000-4000-8000-000000000001", typed, typed, typed, "2027-01-01", typed, AT
        ),
        generated_at=AT,
        participants=[Participant(typed, typed, "client", "client_sponsor", True, typed, AT)],
        timeline=[
            Happening(
                AT,
                "elicitation",
                "ExpectationProposed",
                EXPECTATION,
                typed,
                "client_decision_maker",
                typed,
            )
        ],
        system_events=[],
        expectations=[
            ExpectationHistory(
                EXPECTATION,
                typed,
                "proposed",
                1,
                [
                    Version(
                        1,
                        1,
                        "ExpectationProposed",
                        AT,
                        typed,
                        typed,
                        "client_decision_maker",
                        typed,
                        [Change(typed, None, typed)],
                    ),
                    Version(
                        2,
                        2,
                        "ExpectationRefined",
                        AT,
                        typed,
                        typed,
                        "provider_account_manager",
                        typed,
                        [Change("terms.target", "99", typed)],
                    ),
                ],
            )
        ],
        baselines=[
            Baseline(
                typed,
                typed,
                typed,
                AT,
                ["client_sponsor"],
                True,
                "ab" * 32,
                "ab" * 32,
                {"expectations": 1},
                True,
                [Signature(typed, typed, "client_sponsor", "approved", AT, AT, "ab" * 32)],
                typed,
                typed,
                AT,
            )
        ],
        prioritizations=[
            Prioritization(
                typed,
                "schulze",
                "published",
                typed,
                AT,
                typed,
                AT,
                [typed],
                [
                    Ballot(typed, AT, [EXPECTATION], None, 0.0),
                    Ballot(typed, AT, None, {EXPECTATION: 3}, 0.5),
                ],
                [EXPECTATION],
                0.75,
                (2, 2),
                [typed],
                [EXPECTATION],
                AT,
            )
        ],
        verification=Verification(
            [ServiceCheck("elicitation", 3, 0, [CheckedAgainst(typed, checkpoint)], list(findings))]
        ),
        names={typed: typed},
        labels={EXPECTATION: typed},
    )


def test_every_value_a_participant_typed_shows_as_text_and_never_as_markup() -> None:
    page = render(a_pack(TYPED))
    dom = Dom.of(page)
    tags = {tag for tag, _ in dom.tags}
    assert not tags & {"script", "img", "iframe", "object", "embed", "link"}
    assert not [a for _, attrs in dom.tags for a in attrs if a.startswith("on")]
    assert {a["href"] for a in dom.named("a")} <= {
        f"#{s}"
        for s in (
            "verification",
            "participants",
            "baselines",
            "prioritizations",
            "expectations",
            "timeline",
        )
    }
    assert dom.text.count(TYPED) >= 20, "each typed value is shown, as typed"
    assert TYPED in dom.title


def test_the_page_forbids_script_and_fetching_anything() -> None:
    [policy] = [m for m in Dom.of(render(a_pack())).named("meta") if m.get("http-equiv")]
    assert policy["content"] is not None
    assert "default-src 'none'" in policy["content"] and "script-src" not in policy["content"]


def test_an_untouched_log_is_verified_and_names_the_checkpoint_checked_against() -> None:
    pack = a_pack()
    text = Dom.of(render(pack)).text
    root = pack.verification.services[0].checkpoints[0].checkpoint.checkpoint.root
    assert "Verified: every chain and checkpoint holds" in text
    assert "elicitation: 3 events, verified" in text and root in text


def test_a_tampered_log_says_so_first_and_names_each_finding() -> None:
    gone = "elicitation: REMOVED at position 7 stream x v1: versions 1..1 of its stream are gone"
    text = Dom.of(render(a_pack(findings=(gone,)))).text
    assert text.index("TAMPERED: 1 finding(s)") < text.index("Verification")
    assert gone in text


def test_a_baseline_whose_content_no_longer_has_its_signed_hash_is_flagged() -> None:
    pack = a_pack()
    altered = replace(pack.baselines[0], recomputed_hash="cd" * 32)
    text = Dom.of(render(replace(pack, baselines=[altered]))).text
    assert f"recomputed from the frozen content: DIFFERS ({'cd' * 32})" in text
    assert "recomputed from the frozen content: matches" in Dom.of(render(pack)).text


def test_a_contract_without_baselines_says_so() -> None:
    assert "No baselines." in Dom.of(render(replace(a_pack(), baselines=[]))).text


def test_changes_name_each_value_by_its_path_from_one_version_to_the_next() -> None:
    before = {"text": "Tills work", "terms": {"target": "99.8", "unit": "percent"}, "advice": []}
    after = {
        "text": "Tills work",
        "terms": {"target": "99.5", "unit": "percent", "deadline": None},
        "advice": [{"by": "am", "text": "a spare till"}],
    }
    assert changes(before, after) == [
        Change("advice[0].by", None, "am"),
        Change("advice[0].text", None, "a spare till"),
        Change("terms.target", "99.8", "99.5"),
    ]
    assert changes(after, before)[-1] == Change("terms.target", "99.5", "99.8")
    assert changes(before, before) == []


def test_the_first_version_is_everything_it_was_made_with_and_nothing_empty() -> None:
    made = changes({}, {"text": "Tills work", "merged_into": None, "proposers": ["cso"]})
    assert made == [Change("proposers[0]", None, "cso"), Change("text", None, "Tills work")]


def test_a_contract_id_that_is_no_uuid_is_refused_with_its_code() -> None:
    with pytest.raises(InvalidContractId) as refused:
        contract_id_of("nope")
    assert refused.value.code == "ID_INVALID"
    assert contract_id_of("C0FFEE00-0000-4000-8000-000000000001") == (
        "c0ffee00-0000-4000-8000-000000000001"
    )
