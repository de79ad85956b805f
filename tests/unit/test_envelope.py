"""The CloudEvents envelope: binary mode over Kafka headers, and what bad input gets."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

import tests.support.notes  # noqa: F401 - registers the test contracts
from shared.envelope import Envelope, UndecodableMessage, from_kafka, to_kafka
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
