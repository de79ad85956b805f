"""The write side without a database: provenance on every event, relayed in order in process."""

from uuid import uuid4

import pytest
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment
from pydantic import ValidationError

from shared.bus_memory import InProcessBus
from shared.eventstore import PERSISTENCE_MODULES
from shared.provenance import MissingProvenance, acting_as, provenance_of
from shared.recorder import (
    AccordApplicationRecorder,
    AccordPostgresFactory,
)
from shared.runtime import build_runtime
from shared.settings import Settings, postgres_env
from tests.support.notes import Note, Notes

IN_MEMORY = Settings(database_url="memory")


def test_every_stored_event_records_who_did_it_and_why() -> None:
    app = Notes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    contract_id = uuid4()
    with acting_as("alice", "provider_account_manager", correlation_id="corr-1") as provenance:
        note_id = app.write(contract_id, "Kick-off")
    events = app.events.get(note_id)
    meta = provenance_of(next(iter(events)))
    assert meta["actor_id"] == "alice"
    assert meta["actor_role"] == "provider_account_manager"
    assert meta["correlation_id"] == "corr-1" == provenance.correlation_id
    assert meta["contract_id"] == str(contract_id)


def test_a_record_made_for_an_earlier_cause_stays_in_that_causes_trace() -> None:
    cause = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    command = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with acting_as("system", "system", traceparent=command):
        note = Note(uuid4(), "queued for an earlier event")
        note.carry_trace(cause)
        [written] = note.collect_events()
        note.rewrite("sent", "delivered")  # what it does next is the command's own
        [rewritten] = note.collect_events()
    assert provenance_of(written)["traceparent"] == cause
    assert provenance_of(rewritten)["traceparent"] == command


def test_an_event_without_an_actor_is_never_stored() -> None:
    app = Notes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with pytest.raises(MissingProvenance):
        app.write(uuid4(), "anonymous")
    assert app.recorder.max_notification_id() is None


async def test_the_relay_publishes_stored_events_in_order_keyed_by_contract() -> None:
    bus = InProcessBus()
    runtime = await build_runtime("testkit", Notes, IN_MEMORY, bus.publisher())
    contract_id = uuid4()
    note_id = await runtime.execute(
        runtime.app.write, contract_id, "v1", actor_id="alice", actor_role="decision_maker"
    )
    for n in (2, 3):
        await runtime.execute(
            runtime.app.rewrite,
            note_id,
            f"v{n}",
            "clarified",
            actor_id="bob",
            actor_role="provider_delivery_lead",
        )
    assert await runtime.relay.publish_next_batch() == 3
    envelopes = [m.envelope() for m in bus.log("accord.testkit.v1")]
    assert [e.type for e in envelopes] == [
        "accord.testkit.NoteWritten.v1",
        "accord.testkit.NoteRewritten.v1",
        "accord.testkit.NoteRewritten.v1",
    ]
    assert [e.data["text"] for e in envelopes] == ["v1", "v2", "v3"]
    assert {e.key for e in envelopes} == {str(contract_id)}
    assert [e.actor_id for e in envelopes] == ["alice", "bob", "bob"]
    assert [e.sequence for e in envelopes] == [1, 2, 3]
    assert all(e.subject == str(note_id) for e in envelopes)
    await runtime.stop()


async def test_a_republished_event_keeps_its_id_so_consumers_can_drop_the_repeat() -> None:
    bus = InProcessBus()
    runtime = await build_runtime("testkit", Notes, IN_MEMORY, bus.publisher())
    await runtime.execute(runtime.app.write, uuid4(), "v1", actor_id="a", actor_role="r")
    await runtime.relay.publish_next_batch()
    await runtime.relay.positions.save(0)  # as after a crash before the position was saved
    await runtime.relay.publish_next_batch()
    first, again = (m.envelope() for m in bus.log("accord.testkit.v1"))
    assert first.id == again.id and first.offset != again.offset
    await runtime.stop()


def test_the_aggregate_keeps_its_state_when_read_back() -> None:
    app = Notes(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with acting_as("alice", "r"):
        note_id = app.write(uuid4(), "v1")
        app.rewrite(note_id, "v2", "typo")
    note = app.repository.get(note_id)
    assert isinstance(note, Note) and note.text == "v2" and note.version == 2


def test_accords_recorder_is_the_one_factory_the_library_finds_in_its_module() -> None:
    env = postgres_env("postgresql://accord@db:5432/accord", schema="testkit")
    assert Settings.model_fields["event_store"].default == "accord"
    env["PERSISTENCE_MODULE"] = PERSISTENCE_MODULES["accord"]
    factory = InfrastructureFactory.construct(Environment("Notes", env))  # connects lazily
    assert isinstance(factory, AccordPostgresFactory)
    assert factory.application_recorder_class is AccordApplicationRecorder
    factory.close()


def test_the_library_recorder_stays_one_setting_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_EVENT_STORE", "stock")
    assert PERSISTENCE_MODULES[Settings().event_store] == "eventsourcing.postgres"
    monkeypatch.setenv("ACCORD_EVENT_STORE", "fast")
    with pytest.raises(ValidationError):
        Settings()
