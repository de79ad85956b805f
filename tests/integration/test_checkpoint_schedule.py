"""The checkpoint schedule on real PostgreSQL, its time moved by an injected clock: a service's
log is signed once a period when it moved, never when idle, never twice at one position, and
a restart resumes the schedule; every checkpoint is published on accord.audit.v1. A checkpoint
reads only the events stored since the one before (extending its Merkle frontier) and is the
one a signing of the whole log gives; one it cannot build on makes it read the whole log."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.application import Application

from shared.audit import event, log, store
from shared.audit.checkpoint import KeptCheckpoint, heads_digest, heads_of, sign
from shared.audit.consumer import checkpoint_problem
from shared.audit.keys import signing_key
from shared.audit.schedule import TOPIC, CheckpointSchedule
from shared.bus_memory import InProcessBus
from shared.eventstore import build_application
from shared.provenance import acting_as
from shared.settings import Settings
from tests.support.notes import Notes


class Clock:
    """Time that moves only when the test says."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


class Service:
    """A Notes store under a service name of its own (schema and `<name>_events` table)."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.name = f"ckpt{uuid4().hex[:10]}"
        self.settings = Settings(
            database_url=database_url, data_dir=data_dir, audit_checkpoint_minutes=5
        )
        app_class = type(self.name.capitalize(), (Notes,), {})
        self.app: Application[UUID] = build_application(app_class, self.name, self.settings)
        self.bus = InProcessBus()

    def write(self, count: int = 1) -> None:
        app: Any = self.app
        with acting_as("alice", "decision_maker"):
            for n in range(count):
                app.write(uuid4(), f"note {n}")

    def schedule(self, clock: Clock) -> CheckpointSchedule:
        """A schedule as a process starts it (a restart is a new one)."""
        return CheckpointSchedule([self.name], self.settings, self.bus.publisher(), clock=clock)

    def checkpoints(self) -> list[tuple[int, int, datetime]]:
        with psycopg.connect(self.settings.database_url) as conn:
            rows = conn.execute(
                f"SELECT size, last_position, (signed->'checkpoint'->>'issued_at')::timestamptz"
                f' FROM "{self.name}".audit_checkpoints ORDER BY last_position'
            ).fetchall()
        return [(int(size), int(position), at) for size, position, at in rows]

    def entries(self) -> list[log.Entry]:
        with psycopg.connect(self.settings.database_url) as conn:
            return list(log.read(conn, *log.events_table(self.name)))

    def alter_the_first_event(self) -> None:
        """Its text changed in SQL, as someone with write access to the table could."""
        table = f'"{self.name}"."{self.name}_events"'
        with psycopg.connect(self.settings.database_url) as conn:
            conn.execute(
                f"UPDATE {table} SET state = convert_to(replace(convert_from(state, 'UTF8'),"
                f" 'note 0', 'note zero'), 'UTF8')"
                f" WHERE notification_id = (SELECT min(notification_id) FROM {table})"
            )

    def whole_log_signed(self, now: datetime) -> KeptCheckpoint:
        """The checkpoint a signing of the whole log as it stands gives."""
        return sign(self.name, self.entries(), signing_key(self.settings), now=now)


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    opened = Service(database_url, tmp_path)
    yield opened
    opened.app.close()


def test_a_moved_log_is_signed_once_a_period_and_an_idle_one_never(service: Service) -> None:
    clock = Clock()
    schedule = service.schedule(clock)
    assert schedule.sign_due() == []  # nothing stored yet

    service.write(3)
    first = schedule.sign_due()
    assert [k.checkpoint.size for k in first] == [3]
    start = clock.now

    service.write(2)
    clock.advance(4)
    assert schedule.sign_due() == []  # moved, but the period has not passed
    clock.advance(1)
    assert [k.checkpoint.size for k in schedule.sign_due()] == [5]

    clock.advance(20)
    assert schedule.sign_due() == []  # idle: nothing new to sign, however long
    service.write(1)
    assert [k.checkpoint.size for k in schedule.sign_due()] == [6]

    signed = service.checkpoints()
    assert [(size, at) for size, _, at in signed] == [
        (3, start),
        (5, start + timedelta(minutes=5)),
        (6, start + timedelta(minutes=25)),
    ]


def test_a_restarted_schedule_resumes_from_the_stored_checkpoints(service: Service) -> None:
    clock = Clock()
    service.write(2)
    assert len(service.schedule(clock).sign_due()) == 1

    service.write(1)
    clock.advance(3)
    restarted = service.schedule(clock)
    assert restarted.sign_due() == []  # due 5 minutes after the stored one, not after the start
    clock.advance(2)
    assert [k.checkpoint.size for k in restarted.sign_due()] == [3]
    assert [size for size, _, _ in service.checkpoints()] == [2, 3]


def test_two_replicas_due_together_sign_one_position_once(service: Service) -> None:
    clock = Clock()
    service.write(4)
    one, other = service.schedule(clock), service.schedule(clock)
    signed = [*one.sign_due(), *other.sign_due()]
    assert [k.checkpoint.size for k in signed] == [4]
    # Even signing the same position on purpose keeps the first checkpoint of it.
    with psycopg.connect(service.settings.database_url) as conn:
        again = store.checkpoint(conn, service.name, signing_key(service.settings))
    assert again == signed[0]
    assert len(service.checkpoints()) == 1


async def test_every_checkpoint_is_published_once_and_verifies_against_the_log(
    service: Service,
) -> None:
    clock = Clock()
    schedule = service.schedule(clock)
    service.write(3)
    await schedule.step()
    service.write(2)
    clock.advance(5)
    await schedule.step()
    await schedule.step()  # nothing new: nothing published twice

    published = [m.envelope() for m in service.bus.log(TOPIC)]
    assert [e.type for e in published] == ["accord.audit.CheckpointSigned.v1"] * 2
    assert [e.data["size"] for e in published] == [3, 5]
    assert [e.key for e in published] == [service.name] * 2
    with psycopg.connect(service.settings.database_url) as conn:
        stored = store.unpublished(conn, service.name, after=0)  # every one, oldest first
    assert [e.id for e in published] == [
        event.checkpoint_id(service.name, k.last_position) for k in stored
    ]
    trusted = [signing_key(service.settings).public_key()]
    for received in published:
        assert event.checkpoint_of(received).signed_by(trusted)

    # The in-process bus forgets on a restart: the restarted schedule publishes them again, in
    # order, under the same ids.
    service.bus = InProcessBus()
    await service.schedule(clock).publish()
    assert [m.envelope().id for m in service.bus.log(TOPIC)] == [e.id for e in published]


def test_a_checkpoint_event_whose_root_was_changed_fails_a_consumer_check(service: Service) -> None:
    service.write(2)
    kept = service.schedule(Clock()).sign_due()[0].checkpoint
    trusted = [signing_key(service.settings).public_key()]
    forged = kept.model_copy(update={"root": "00" * 32})
    assert (
        checkpoint_problem(forged, [], trusted) == "the checkpoint is not signed by a trusted key"
    )


async def test_the_schedule_runs_by_itself_while_it_holds_the_services_lock(
    service: Service,
) -> None:
    service.write(2)
    settings = service.settings.model_copy(update={"audit_checkpoint_minutes": 0.001})
    leader = CheckpointSchedule([service.name], settings, service.bus.publisher())
    standby = CheckpointSchedule([service.name], settings, service.bus.publisher())
    running = [asyncio.create_task(leader.run()), asyncio.create_task(standby.run())]
    for _ in range(200):  # a bounded wait for the background task, not a timing
        if leader.sent + standby.sent and (leader.standby or standby.standby):
            break
        await asyncio.sleep(0.05)
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    assert sorted([leader.standby, standby.standby]) == [False, True]
    assert leader.sent + standby.sent == 1
    assert [m.envelope().data["size"] for m in service.bus.log(TOPIC)] == [2]


def test_a_checkpoint_reads_only_what_was_stored_since_the_one_before(service: Service) -> None:
    clock = Clock()
    schedule = service.schedule(clock)
    service.write(5)
    assert [k.checkpoint.size for k in schedule.sign_due()] == [5]
    service.write(3)
    clock.advance(5)
    # Ed25519 signs deterministically: the very checkpoint the whole log, as it stands, gives.
    expected = service.whole_log_signed(clock.now)
    # An event the first checkpoint covers is altered behind its back: the next one, which
    # does not read those five again, still signs them as they were...
    service.alter_the_first_event()
    [second] = schedule.sign_due()
    assert second.checkpoint.size == 8
    assert second == expected
    assert second != service.whole_log_signed(clock.now)
    # ...and the audit names the alteration against it.
    trusted = [signing_key(service.settings).public_key()]
    with psycopg.connect(service.settings.database_url) as conn:
        kinds = [f.kind for f in store.audit(conn, service.name, trusted).findings]
    assert kinds and set(kinds) == {"altered"}, kinds


@pytest.mark.parametrize("kept_frontier", ["lost", "altered"])
def test_a_checkpoint_that_cannot_be_built_on_makes_the_next_read_the_whole_log(
    service: Service, kept_frontier: str
) -> None:
    clock = Clock()
    schedule = service.schedule(clock)
    service.write(4)
    schedule.sign_due()
    frontier = "NULL" if kept_frontier == "lost" else "ARRAY[sha256('x'::bytea)]"
    with psycopg.connect(service.settings.database_url) as conn:
        conn.execute(f'UPDATE "{service.name}".audit_checkpoints SET frontier = {frontier}')
    service.write(2)
    clock.advance(5)
    service.alter_the_first_event()
    [next_one] = schedule.sign_due()
    # Read whole again: it signs the six as they stand now, the altered one included.
    assert next_one.checkpoint.size == 6
    assert next_one == service.whole_log_signed(clock.now)


def test_only_the_newest_checkpoint_keeps_its_heads_and_an_older_ones_are_recomputed(
    service: Service,
) -> None:
    clock = Clock()
    schedule = service.schedule(clock)
    signed: list[KeptCheckpoint] = []
    for count in (3, 2, 1):
        service.write(count)
        signed.extend(schedule.sign_due())
        clock.advance(5)
    assert [k.checkpoint.size for k in signed] == [3, 5, 6]
    with psycopg.connect(service.settings.database_url) as conn:
        rows = conn.execute(
            f"SELECT size, signed ? 'heads' FROM \"{service.name}\".audit_checkpoints"
            " ORDER BY last_position"
        ).fetchall()
        newest = store.latest(conn, service.name)
    assert rows == [(3, False), (5, False), (6, True)]
    assert newest == signed[-1]
    # An older checkpoint's heads are what the log up to its position gives: they match the
    # digest it signed, and the signature still holds.
    entries = service.entries()
    trusted = [signing_key(service.settings).public_key()]
    for kept in signed[:-1]:
        prefix = [e for e in entries if e.position <= kept.checkpoint.last_position]
        assert heads_digest(heads_of(prefix)) == kept.checkpoint.heads_digest
        assert kept.checkpoint.signed_by(trusted)
    # Signing again at the newest position answers it with its heads, as before.
    with psycopg.connect(service.settings.database_url) as conn:
        again = store.checkpoint(conn, service.name, signing_key(service.settings))
    assert again == signed[-1]
