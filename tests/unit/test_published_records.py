"""The relay's records: a fact stored on several aggregates is published once, from the
first aggregate its contract names, with the others as copies; nothing is ever dropped."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from shared.envelope import Envelope
from shared.relay import published_records

MERGED = "accord.elicitation.ExpectationsMerged.v1"


def stored(subject: str, data: dict[str, object], position: int, kind: str = MERGED) -> Envelope:
    return Envelope(
        id=str(uuid4()), type=kind, source="/accord/elicitation", subject=subject,
        time=datetime(2026, 12, 2, 9, 0, position, tzinfo=UTC), key=str(data["contract_id"]),
        data=data, sequence=2, chain_hash=f"{position:064x}", previous_hash="0" * 64,
        position=position,
    )  # fmt: skip


def a_merge() -> tuple[str, str, dict[str, object]]:
    kept, merged = str(uuid4()), str(uuid4())
    data: dict[str, object] = {
        "contract_id": str(uuid4()), "kept_expectation_id": kept,
        "merged_expectation_id": merged, "proposers": ["li", "tom"], "reason": "same",
        "merged_by": "amira",
    }  # fmt: skip
    return kept, merged, data


def test_the_merged_copy_rides_on_the_kept_one_whichever_was_stored_first() -> None:
    kept, merged, data = a_merge()
    other = stored(
        str(uuid4()),
        {"contract_id": data["contract_id"]},
        1,
        "accord.elicitation.ExpectationWithdrawn.v1",
    )
    for order in ((kept, merged), (merged, kept)):
        events = [other, stored(order[0], data, 2), stored(order[1], data, 3)]
        records, complete = published_records(events)
        assert complete
        assert [r.subject for r in records] == [other.subject, kept]
        [copy] = records[1].copies
        assert (copy.subject, copy.position) == (merged, 2 if order[0] == merged else 3)
        assert sorted(e.id for r in records for e in r.stored_events()) == sorted(
            e.id for e in events
        )


def test_a_fact_missing_a_copy_is_published_as_stored() -> None:
    kept, _, data = a_merge()
    events = [stored(kept, data, 7)]
    records, complete = published_records(events)
    assert not complete
    assert records == events


def test_two_merges_in_one_batch_each_keep_their_own_copy() -> None:
    first, second = a_merge(), a_merge()
    events = [
        stored(first[0], first[2], 1), stored(second[0], second[2], 2),
        stored(first[1], first[2], 3), stored(second[1], second[2], 4),
    ]  # fmt: skip
    records, complete = published_records(events)
    assert complete
    assert [(r.subject, [c.subject for c in r.copies]) for r in records] == [
        (first[0], [first[1]]), (second[0], [second[1]]),
    ]  # fmt: skip
