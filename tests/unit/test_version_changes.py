"""What changed from one version of an expectation to the next: each value by its path in the
schema's names, written as text, lists of ids or names as items."""

from __future__ import annotations

from typing import Any

from services.gateway.types import FieldChange, diff

BEFORE: dict[str, Any] = {
    "text": "Tills work",
    "why_it_matters": "queues",
    "terms": None,
    "measurable": False,
    "proposers": ["cfo"],
    "advice": [],
    "commitment": None,
}


def changes(after: dict[str, Any]) -> dict[str, FieldChange]:
    return {change.field: change for change in diff(BEFORE, {**BEFORE, **after})}


def test_a_new_term_is_named_by_its_path_and_written_as_given() -> None:
    changed = changes({"terms": {"target": "99.5", "measurement_method": "report"}})
    assert set(changed) == {"terms.target", "terms.measurementMethod"}
    assert (changed["terms.target"].old, changed["terms.target"].new) == (None, "99.5")


def test_a_flag_reads_true_or_false() -> None:
    changed = changes({"measurable": True})["measurable"]
    assert (changed.old, changed.new, changed.old_items) == ("false", "true", None)


def test_a_list_of_names_changes_by_its_items() -> None:
    changed = changes({"proposers": ["cfo", "cio"]})["proposers"]
    assert (changed.old, changed.new) == (None, None)
    assert (changed.old_items, changed.new_items) == (["cfo"], ["cfo", "cio"])


def test_a_decision_and_a_piece_of_advice_change_value_by_value() -> None:
    changed = changes({
        "commitment": {"revision": 2, "note": "we can", "by": "am", "at": "2027-01-01T00:00:00"},
        "advice": [{"revision": 2, "importance": "high", "advice": "matters"}],
    })  # fmt: skip
    assert changed["commitment.note"].new == "we can"
    assert changed["commitment.revision"].new == "2"
    assert changed["advice.1.importance"].new == "high"
    assert "advice" not in changed and "commitment" not in changed


def test_an_unchanged_value_is_no_change() -> None:
    assert changes({"text": "Tills work"}) == {}


def test_a_field_in_snake_case_is_named_in_camel_case() -> None:
    assert set(changes({"why_it_matters": "long queues"})) == {"whyItMatters"}
