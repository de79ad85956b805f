"""The CloudEvents envelope: binary mode over Kafka headers, and what bad input gets."""

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import pytest

import tests.support.notes  # noqa: F401 - registers the test contracts
from shared.envelope import Envelope, StoredCopy, UndecodableMessage, from_kafka, to_kafka
from shared.schemas import UnknownEventType


def an_envelope() -> Envelope:
    contract_id = str(uuid4())
    return Envelope(
        id=str(uuid4()),
        type="accord.testkit.NoteWritten.v1",
        source="/accord/testkit",
        subject=str(uuid4()),
        time=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        key=contract_id,
        data={"contract_id": contract_id, "text": "Kick-off notes"},
        actor_id="alice",
        actor_role="provider_account_manager",
        correlation_id=str(uuid4()),
        causation_id=str(uuid4()),
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        sequence=1,
    )


def test_an_envelope_survives_the_round_trip_through_kafka_headers() -> None:
    envelope = an_envelope()
    key, value, headers = to_kafka(envelope)
    names = [name for name, _ in headers]
    assert {"ce_specversion", "ce_id", "ce_type", "ce_source", "ce_subject", "ce_time"} <= set(
        names
    )
    assert key == envelope.key.encode()
    assert from_kafka(key, value, headers) == envelope


def test_no_python_class_path_goes_on_the_wire() -> None:
    _, value, headers = to_kafka(an_envelope())
    wire = value + b"".join(raw for _, raw in headers)
    assert b"tests.support" not in wire and b"Note:" not in wire


def test_a_message_without_cloudevents_headers_is_undecodable() -> None:
    with pytest.raises(UndecodableMessage, match="ce_specversion"):
        from_kafka(b"k", b"{}", [])


def test_a_message_whose_data_is_not_json_is_undecodable() -> None:
    key, _, headers = to_kafka(an_envelope())
    with pytest.raises(UndecodableMessage, match="not JSON"):
        from_kafka(key, b"\xff\xfe not json", headers)


def test_a_message_missing_its_id_is_undecodable() -> None:
    key, value, headers = to_kafka(an_envelope())
    with pytest.raises(UndecodableMessage, match="ce_id"):
        from_kafka(key, value, [(n, v) for n, v in headers if n != "ce_id"])


def test_an_unknown_type_is_refused() -> None:
    key, value, headers = to_kafka(an_envelope())
    renamed = [(n, b"accord.testkit.Unheard.v1" if n == "ce_type" else v) for n, v in headers]
    with pytest.raises(UnknownEventType):
        from_kafka(key, value, renamed)


def a_copy() -> StoredCopy:
    return StoredCopy(
        id=str(uuid4()), subject=str(uuid4()), sequence=3, position=4097,
        time=datetime(2026, 11, 23, 9, 30, 0, 1, tzinfo=UTC), hash="ab" * 32, prevhash="cd" * 32,
    )  # fmt: skip


def test_a_fact_stored_twice_travels_as_one_record_that_names_its_copy() -> None:
    envelope = replace(an_envelope(), copies=(a_copy(),))
    key, value, headers = to_kafka(envelope)
    assert [name for name, _ in headers].count("ce_accordcopies") == 1
    received = from_kafka(key, value, headers)
    assert received == envelope
    first, second = received.stored_events()
    assert first == replace(envelope, copies=())
    copy = envelope.copies[0]
    assert (second.id, second.subject, second.sequence, second.position, second.time) == (
        copy.id, copy.subject, copy.sequence, copy.position, copy.time,
    )  # fmt: skip
    assert (second.chain_hash, second.previous_hash) == (copy.hash, copy.prevhash)
    assert (second.data, second.type, second.key) == (envelope.data, envelope.type, envelope.key)
    assert an_envelope().stored_events()[0].copies == ()


@pytest.mark.parametrize(
    "copies",
    [
        b"not json",
        b"{}",
        b'[{"id": "x"}]',
        b'[{"id":"x","subject":"s","sequence":1,"position":1,"time":"2026-11-23T09:30:00"}]',
    ],
)
def test_copies_that_are_not_stored_copies_are_undecodable(copies: bytes) -> None:
    key, value, headers = to_kafka(an_envelope())
    with pytest.raises(UndecodableMessage, match="ce_accordcopies"):
        from_kafka(key, value, [*headers, ("ce_accordcopies", copies)])
