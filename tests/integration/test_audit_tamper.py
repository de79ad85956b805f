"""Tamper evidence on real PostgreSQL: the chain Accord's recorder stores, and an auditor's
verification that names the first event altered, removed, reordered or inserted in SQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import StoredEvent

from shared.audit import log
from shared.audit.chain import event_hash
from shared.audit.checkpoint import KeptCheckpoint, sign
from shared.audit.proof import problem, prove
from shared.audit.verify import Report, check_log
from shared.event_ids import event_id
from shared.eventstore import build_application
from shared.provenance import acting_as
from shared.settings import Settings
from tests.support.notes import Notes

KEY = Ed25519PrivateKey.generate()
TRUSTED = [KEY.public_key()]


class Store:
    """A Notes store in its own schema, with SQL access to its rows as an attacker has."""

    def __init__(self, database_url: str) -> None:
        self.schema = f"audit_{uuid4().hex[:12]}"
        self.table = f'"{self.schema}".notes_events'
        self.app = build_application(
            Notes, self.schema, Settings(database_url=database_url, event_store="accord")
        )
        self.sql = psycopg.connect(database_url, autocommit=True)

    def entries(self) -> list[log.Entry]:
        with psycopg.connect(self.sql.info.dsn) as conn:
            return list(log.read(conn, self.schema, "notes_events"))

    def verify(self, *kept: KeptCheckpoint) -> Report:
        return check_log("testkit", self.entries(), kept, trusted=TRUSTED)

    def checkpoint(self) -> KeptCheckpoint:
        return sign("testkit", self.entries(), KEY)

    def position(self, note: UUID, version: int) -> int:
        row = self.sql.execute(
            f"SELECT notification_id FROM {self.table}"
            " WHERE originator_id = %s AND originator_version = %s",
            (note, version),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def close(self) -> None:
        self.sql.close()
        self.app.close()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store(database_url)
    yield opened
    opened.close()


def history(store: Store) -> list[UUID]:
    """Three notes rewritten a few times, with one save of two events and one of two notes."""
    app = store.app
    with acting_as("alice", "decision_maker"):
        notes = [app.write(uuid4(), f"note {n}") for n in range(3)]
        for n in range(3):
            app.rewrite(notes[n % 3], f"rewrite {n}")
        twice: Any = app.repository.get(notes[0])
        twice.rewrite("first of two", "")
        twice.rewrite("second of two", "")
        app.save(twice)  # two events of one aggregate in one insert
        one: Any = app.repository.get(notes[1])
        other: Any = app.repository.get(notes[2])
        one.rewrite("saved together", "")
        other.rewrite("saved together", "")
        app.save(one, other)  # two aggregates in one insert
    return notes


def test_the_recorder_stores_the_hash_the_auditor_recomputes_in_one_and_many_event_saves(
    store: Store,
) -> None:
    history(store)
    entries = store.entries()
    assert len(entries) == 10
    assert all(e.stored_hash == e.computed_hash for e in entries)
    previous = {(e.originator_id, e.version): e.stored_hash for e in entries}
    first = entries[0]
    assert first.computed_hash == event_hash(
        first.position, first.originator_id, 1, first.topic, first.state
    )
    assert all(
        e.previous_hash == previous[(e.originator_id, e.version - 1)]
        for e in entries
        if e.version > 1
    )


def test_one_insert_of_interleaved_aggregates_chains_each_to_its_own_predecessor(
    store: Store,
) -> None:
    """The library hands an aggregate's events over together; a caller of the recorder that
    interleaves them (a copy of a log, two saves of one aggregate joined) is chained all the
    same, and each event gets back the position it was stored at."""
    first, second = uuid4(), uuid4()
    topic = "tests.support.notes:Note.NoteRewritten"
    given = [
        StoredEvent(originator_id=aggregate, originator_version=version, topic=topic,
                    state=f'{{"n": {version}}}'.encode())
        for version in (1, 2, 3)
        for aggregate in (first, second)
    ]  # fmt: skip
    positions = store.app.recorder.insert_events(given)
    entries = store.entries()
    assert all(e.stored_hash == e.computed_hash for e in entries)
    assert store.verify().findings == []
    stored = {(e.originator_id, e.version): e.position for e in entries}
    assert positions == [stored[(e.originator_id, e.originator_version)] for e in given]


def test_a_transaction_of_another_session_does_not_hold_the_auditors_read_back(
    store: Store,
) -> None:
    # A session that writes no events (another service's, an operator's psql) has begun a
    # transaction before these saves and is still open: the log read is whole all the same.
    with psycopg.connect(store.sql.info.dsn) as other:
        other.execute("SELECT pg_current_xact_id()")  # it holds a transaction id, open
        history(store)
        assert len(store.entries()) == 10
        assert store.checkpoint().checkpoint.size == 10


def test_an_untouched_store_verifies_against_its_checkpoint(store: Store) -> None:
    history(store)
    kept = store.checkpoint()
    report = store.verify(kept)
    assert report.findings == []
    assert report.chained_from == store.entries()[0].position and report.unchained == 0


def test_a_changed_field_is_named_as_altered(store: Store) -> None:
    notes = history(store)
    kept = store.checkpoint()
    store.sql.execute(
        f"UPDATE {store.table} SET state = convert_to("
        "replace(convert_from(state, 'UTF8'), 'rewrite 0', 'rewrote'), 'UTF8')"
        " WHERE originator_id = %s AND originator_version = 2",
        (notes[0],),
    )
    report = store.verify(kept)
    assert report.first is not None
    assert (report.first.kind, report.first.originator_id, report.first.version) == (
        "altered",
        notes[0],
        2,
    )
    assert report.first.position == store.position(notes[0], 2)


def test_a_deleted_row_is_named_as_removed(store: Store) -> None:
    notes = history(store)
    store.sql.execute(
        f"DELETE FROM {store.table} WHERE originator_id = %s AND originator_version = 2",
        (notes[1],),
    )
    report = store.verify()  # the chain alone tells: version 3 follows version 1
    assert report.first is not None
    assert (report.first.kind, report.first.originator_id, report.first.version) == (
        "removed",
        notes[1],
        3,
    )


def test_the_newest_row_of_a_stream_deleted_is_named_given_a_kept_checkpoint(
    store: Store,
) -> None:
    notes = history(store)
    kept = store.checkpoint()
    store.sql.execute(
        f"DELETE FROM {store.table} WHERE originator_id = %s AND originator_version = 4",
        (notes[0],),
    )  # notes[0] had 4 versions: nothing after it in its stream to break
    assert [f.kind for f in store.verify().findings] == []  # the chain alone cannot tell
    report = store.verify(kept)
    assert [(f.kind, f.originator_id, f.version) for f in report.findings] == [
        ("removed", notes[0], 4)
    ]


def test_two_events_swapped_in_the_log_are_named_as_reordered(store: Store) -> None:
    notes = history(store)
    kept = store.checkpoint()
    a, b = store.position(notes[1], 1), store.position(notes[2], 1)
    for source, target in ((a, -1), (b, a), (-1, b)):  # the ids are unique at every step
        store.sql.execute(
            f"UPDATE {store.table} SET notification_id = %s WHERE notification_id = %s",
            (target, source),
        )
    report = store.verify(kept)
    assert report.first is not None
    assert (report.first.kind, report.first.position) == ("reordered", a)
    assert {(f.kind, f.originator_id) for f in report.findings} >= {
        ("reordered", notes[1]),
        ("reordered", notes[2]),
    }


def test_an_event_inserted_with_a_well_made_hash_is_named_given_a_kept_checkpoint(
    store: Store,
) -> None:
    notes = history(store)
    kept = store.checkpoint()
    last = store.entries()[-1]
    # A forger who knows the scheme chains the event properly, inside the checkpointed log.
    note, version = notes[0], 5
    tail = store.position(note, version - 1)
    position = tail + 1000  # a free place inside the transaction's range
    assert position < last.position
    state = b'{"text":"forged","reason":"","_meta":{}}'
    topic = "tests.support.notes:Note.NoteRewritten"
    previous = next(e.stored_hash for e in store.entries() if e.position == tail)
    assert previous is not None
    forged = event_hash(position, note, version, topic, state, previous)
    store.sql.execute(
        f"INSERT INTO {store.table} (originator_id, originator_version, topic, state,"
        " xact_id, notification_id, hash) VALUES (%s, %s, %s, %s, '1', %s, %s)",
        (note, version, topic, state, position, forged),
    )
    assert store.verify().findings == []  # the chain alone cannot tell
    report = store.verify(kept)
    assert [(f.kind, f.originator_id, f.version, f.position) for f in report.findings] == [
        ("inserted", note, version, position)
    ]


def test_a_forged_checkpoint_is_refused(store: Store) -> None:
    history(store)
    kept = store.checkpoint()
    forged = kept.model_copy(update={"checkpoint": kept.checkpoint.model_copy(update={"size": 99})})
    assert [f.kind for f in store.verify(forged).findings] == ["forged"]
    other = Ed25519PrivateKey.generate()
    assert [f.kind for f in store.verify(sign("testkit", store.entries(), other)).findings] == [
        "forged"
    ]


def test_rows_stored_before_chaining_are_reported_as_where_the_chain_starts(
    store: Store,
) -> None:
    notes = history(store)
    store.sql.execute(f"UPDATE {store.table} SET hash = NULL")  # as written before chaining
    with acting_as("bob", "decision_maker"):
        store.app.rewrite(notes[0], "after the upgrade")
    report = store.verify()
    assert report.findings == []
    assert report.unchained == 10 and report.chained_from == store.position(notes[0], 5)


def test_an_event_proves_its_inclusion_in_the_signed_checkpoint(store: Store) -> None:
    notes = history(store)
    kept = store.checkpoint()
    proof = prove(store.entries(), kept.checkpoint, event_id(notes[1], 2))
    assert problem(proof, TRUSTED) is None
    bent = proof.model_copy(update={"leaf_index": proof.leaf_index + 1})
    assert problem(bent, TRUSTED) is not None
    assert problem(proof, [Ed25519PrivateKey.generate().public_key()]) is not None
