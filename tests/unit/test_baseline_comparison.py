"""compareBaselines: each field added, removed or changed, by a path that names list entries by
their ids, so one entry added moves no other path."""

from __future__ import annotations

import copy
from typing import Any

from services.gateway.baselines import ChangeKind, compare

E1, E2 = "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b", "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"


def expectation(expectation_id: str, target: str) -> dict[str, Any]:
    return {"expectation_id": expectation_id, "version": 3, "terms": {"target": target}}


CONTENT: dict[str, Any] = {
    "contract": {"contract_id": "c", "version": 4},
    "expectations": [expectation(E1, "95")],
    "ranking": None,
}


def test_a_baseline_compared_with_itself_has_no_change() -> None:
    assert compare(CONTENT, copy.deepcopy(CONTENT)) == []


def test_a_changed_term_is_named_by_its_expectation_and_field_with_both_values() -> None:
    later = copy.deepcopy(CONTENT)
    later["expectations"][0]["terms"]["target"] = "99"
    [change] = compare(CONTENT, later)
    assert (change.path, change.change, change.old, change.new) == (
        f"expectations.{E1}.terms.target", ChangeKind.CHANGED, "95", "99",
    )  # fmt: skip


def test_an_entry_added_before_another_adds_its_fields_and_moves_nothing_else() -> None:
    later = copy.deepcopy(CONTENT)
    later["expectations"].insert(0, expectation(E2, "10"))
    changes = compare(CONTENT, later)
    assert {c.path for c in changes} == {
        f"expectations.{E2}.expectationId", f"expectations.{E2}.version",
        f"expectations.{E2}.terms.target",
    }  # fmt: skip
    assert {c.change for c in changes} == {ChangeKind.ADDED}
    assert [c.path for c in compare(later, CONTENT)] == sorted(c.path for c in changes)
    assert {c.change for c in compare(later, CONTENT)} == {ChangeKind.REMOVED}


def test_a_ranking_published_since_shows_as_its_fields_added() -> None:
    later = copy.deepcopy(CONTENT)
    later["ranking"] = {"ranking": [E1], "method": "borda"}
    changes = {c.path: c for c in compare(CONTENT, later)}
    assert set(changes) == {"ranking.ranking", "ranking.method"}
    assert changes["ranking.ranking"].new == f'["{E1}"]'
    assert changes["ranking.method"].change is ChangeKind.ADDED
