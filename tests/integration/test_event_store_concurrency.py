"""The event store on real PostgreSQL, Accord's recorder and the library's stock one alike:
concurrent writers, a tailing reader that misses nothing, optimistic concurrency, old data."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent

from shared.audit import log as audit_log
from shared.audit.verify import check_log
from shared.bus_memory import InProcessBus
from shared.eventstore import StoreExecutor, build_application
from shared.provenance import acting_as
from shared.recorder import AccordApplicationRecorder, insert_parameters
from shared.relay import MemoryPositions, OutboxRelay
from shared.settings import Settings
from tests.support.notes import SERVICE, Notes

STORES = ["accord", "stock"]
WRITERS = 16
SAVES_PER_WRITER = 30
ROOT = Path(__file__).resolve().parents[2]


def fresh_schema() -> str:
    return f"store_{uuid4().hex[:12]}"


def open_store(database_url: str, store: str, schema: str) -> Notes:
    return build_application(Notes, schema, Settings(database_url=database_url, event_store=store))


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app(database_url: str, store: str) -> Iterator[Notes]:
    notes = open_store(database_url, store, fresh_schema())
    yield notes
    notes.close()


def read_all(app: Notes, after: int = 0) -> list[Notification]:
    """Page through the log as the relay does, from just after `after`."""
    seen: list[Notification] = []
    while page := app.recorder.select_notifications(after, 50, inclusive_of_start=False):
        seen.extend(page)
        after = page[-1].id
    return seen


def write_concurrently(app: Notes, existing: list[UUID]) -> set[tuple[UUID, int]]:
    """Each writer alternates between a new note and rewriting one of its own; what was stored."""

    def writer(number: int) -> set[tuple[UUID, int]]:
        stored: set[tuple[UUID, int]] = set()
        own = [existing[number]]
        versions = {existing[number]: 1}
        with acting_as(f"writer-{number}", "decision_maker"):
            for n in range(SAVES_PER_WRITER):
                if n % 2:
                    note_id = own[n % len(own)]
                    app.rewrite(note_id, f"rewrite {n}")
                    versions[note_id] += 1
                    stored.add((note_id, versions[note_id]))
                else:
                    note_id = app.write(uuid4(), f"note {n}")
                    own.append(note_id)
                    versions[note_id] = 1
                    stored.add((note_id, 1))
        return stored

    with ThreadPoolExecutor(WRITERS) as pool:
        return set().union(*pool.map(writer, range(WRITERS)))


def test_a_tailing_reader_sees_every_event_of_concurrent_writers_once_in_order(app: Notes) -> None:
    with acting_as("seed", "decision_maker"):
        existing = [app.write(uuid4(), "seed") for _ in range(WRITERS)]
    seen: list[Notification] = []
    writing = threading.Event()
    writing.set()

    def tail() -> None:
        after = 0
        while writing.is_set():
            page = app.recorder.select_notifications(after, 17, inclusive_of_start=False)
            seen.extend(page)
            after = page[-1].id if page else after

    reader = threading.Thread(target=tail)
    reader.start()
    written = write_concurrently(app, existing)
    writing.clear()
    reader.join()
    seen.extend(read_all(app, seen[-1].id if seen else 0))

    positions = [n.id for n in seen]
    assert positions == sorted(set(positions))  # every page moves forward, nothing repeats
    events = [(n.originator_id, n.originator_version) for n in seen]
    assert len(events) == len(set(events))  # each event once
    assert set(events) == written | {(note_id, 1) for note_id in existing}  # none skipped
    by_note: dict[UUID, list[int]] = {}
    for note_id, version in events:
        by_note.setdefault(note_id, []).append(version)
    assert all(versions == sorted(versions) for versions in by_note.values())
    assert app.recorder.max_notification_id() == positions[-1]
    if isinstance(app.recorder, AccordApplicationRecorder):
        assert_chain_holds(app)


def assert_chain_holds(app: Notes) -> None:
    """Every event the concurrent writers stored is chained to its predecessor, as verified."""
    datastore = app.recorder.datastore  # type: ignore[attr-defined]
    with datastore.get_connection() as conn:
        dsn = conn.info.dsn
    with psycopg.connect(dsn) as conn:
        entries = list(audit_log.read(conn, datastore.schema, "notes_events"))
    report = check_log(SERVICE, entries)
    assert report.findings == [] and report.unchained == 0 and len(entries) > WRITERS


def test_a_stale_copy_of_an_aggregate_is_refused_as_a_concurrent_change(app: Notes) -> None:
    with acting_as("alice", "decision_maker"):
        note_id = app.write(uuid4(), "v1")
        first: Any = app.repository.get(note_id)
        second: Any = app.repository.get(note_id)
        first.rewrite("v2 by first", "")
        second.rewrite("v2 by second", "")
        app.save(first)
        with pytest.raises(IntegrityError):
            app.save(second)
    assert app.repository.get(note_id).text == "v2 by first"
    assert [n.originator_version for n in read_all(app)] == [1, 2]


def test_writers_racing_on_one_aggregate_store_each_version_once(app: Notes) -> None:
    with acting_as("alice", "decision_maker"):
        note_id = app.write(uuid4(), "v1")
    racers = 8
    all_loaded = threading.Barrier(racers)

    def rewrite(number: int) -> bool:
        with acting_as(f"writer-{number}", "decision_maker"):
            note: Any = app.repository.get(note_id)
            note.rewrite(f"by {number}", "")
            all_loaded.wait()  # every racer holds the same version before any saves
            try:
                app.save(note)
            except IntegrityError:
                return False
            return True

    with ThreadPoolExecutor(racers) as pool:
        rounds = [list(pool.map(rewrite, range(racers))) for _ in range(3)]
    assert [outcomes.count(True) for outcomes in rounds] == [1, 1, 1]
    assert [n.originator_version for n in read_all(app)] == [1, 2, 3, 4]


def hold_open_insert(app: Notes, note_id: UUID) -> tuple[Any, Any]:
    """Insert a note's first event in a transaction left open, as a slow writer would; only
    its end (commit, rollback, death) ends it, not the library's idle-in-transaction timeout."""
    recorder = app.recorder
    assert isinstance(recorder, AccordApplicationRecorder)
    holding = recorder.datastore.get_connection()
    conn = holding.__enter__()
    conn.execute("SET idle_in_transaction_session_timeout = 0")
    conn.autocommit = False
    event = StoredEvent(note_id, 1, "tests.support.notes:Note.Created", b"{}")
    conn.execute(recorder.accord_insert_statement, insert_parameters([event]))
    return holding, conn


def test_readers_stop_before_a_transaction_still_writing_and_then_see_it_first(
    database_url: str,
) -> None:
    app = open_store(database_url, "accord", fresh_schema())
    with acting_as("alice", "decision_maker"):
        before = app.write(uuid4(), "before")
        slow_note = uuid4()
        holding, conn = hold_open_insert(app, slow_note)
        after = app.write(uuid4(), "after, committed first")
        # The later write has committed, but it sits after the one still in flight: not yet.
        assert [n.originator_id for n in read_all(app)] == [before]
        assert app.recorder.max_notification_id() == read_all(app)[0].id
        conn.commit()
        conn.autocommit = True
        holding.__exit__(None, None, None)
    assert [n.originator_id for n in read_all(app)] == [before, slow_note, after]
    app.close()


def test_a_writer_killed_mid_transaction_holds_readers_back_only_until_it_is_gone(
    database_url: str,
) -> None:
    schema = fresh_schema()
    app = open_store(database_url, "accord", schema)
    script = (
        "import sys, time\n"
        "from uuid import uuid4\n"
        "from tests.integration.test_event_store_concurrency import hold_open_insert, open_store\n"
        "app = open_store(sys.argv[1], 'accord', sys.argv[2])\n"
        "held = hold_open_insert(app, uuid4())\n"
        "print('holding', flush=True)\n"
        "time.sleep(600)\n"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script, database_url, schema],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "holding\n"
        with acting_as("alice", "decision_maker"):
            committed = app.write(uuid4(), "committed while the other writer holds on")
        assert read_all(app) == []
        writer.kill()  # SIGKILL: no rollback sent; PostgreSQL finds the connection gone
        writer.wait()
        deadline = time.monotonic() + 30
        while not (seen := read_all(app)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [n.originator_id for n in seen] == [committed]  # the dead writer's event is not
    finally:
        writer.kill()
        app.close()


def test_events_the_stock_recorder_stored_stay_readable_and_the_log_continues_after_them(
    database_url: str,
) -> None:
    schema = fresh_schema()
    stock = open_store(database_url, "stock", schema)
    with acting_as("alice", "decision_maker"):
        old_notes = [stock.write(uuid4(), f"old {n}") for n in range(5)]
        stock.rewrite(old_notes[0], "old, rewritten")
    relayed_up_to = read_all(stock)[-1].id
    stock.close()

    accord = open_store(database_url, "accord", schema)
    assert [n.originator_id for n in read_all(accord)][:5] == old_notes
    with acting_as("bob", "decision_maker"):
        accord.rewrite(old_notes[0], "new, rewritten")  # an old aggregate takes new events
        new_note = accord.write(uuid4(), "new")
    assert accord.repository.get(old_notes[0]).text == "new, rewritten"
    continued = read_all(accord, after=relayed_up_to)  # a relay resumes where it stopped
    assert [(n.originator_id, n.originator_version) for n in continued] == [
        (old_notes[0], 3),
        (new_note, 1),
    ]
    accord.close()

    back = open_store(database_url, "stock", schema)  # and the setting can be turned back
    with acting_as("carol", "decision_maker"):
        last = back.write(uuid4(), "stock again")
    assert read_all(back, after=continued[-1].id)[0].originator_id == last
    back.close()


async def test_the_relay_publishes_every_event_of_concurrent_writers_in_order(
    database_url: str, store: str
) -> None:
    bus = InProcessBus()
    app = open_store(database_url, store, fresh_schema())
    executor = StoreExecutor(4)
    relay = OutboxRelay(app, SERVICE, bus.publisher(), MemoryPositions(), executor, batch_size=13)
    with acting_as("seed", "decision_maker"):
        existing = [app.write(uuid4(), "seed") for _ in range(WRITERS)]
    published = 0
    writing = threading.Thread(target=write_concurrently, args=(app, existing))
    writing.start()
    while writing.is_alive():
        published += await relay.publish_next_batch()
    writing.join()
    while batch := await relay.publish_next_batch():
        published += batch
    events = [(e.subject, e.sequence) for e in (m.envelope() for m in bus.log(relay.topic))]
    assert published == len(events) == len(set(events)) == len(read_all(app))
    by_note: dict[str, list[int]] = {}
    for subject, sequence in events:
        by_note.setdefault(subject, []).append(sequence)
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in by_note.values())
    executor.shutdown()
    app.close()
