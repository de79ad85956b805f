"""A cluster that asks for credentials: Accord's publishers and consumers sign in with the
ACCORD_KAFKA_SASL_* settings, and a wrong password is refused, not ignored."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from uuid import uuid4

import pytest
from aiokafka.errors import KafkaError

from accord.infra.kafka import CA_FILE, SASL_PASSWORD, SASL_USERNAME, write_tls
from shared.bus import Partition
from shared.bus_kafka import KafkaAccess, KafkaBus
from shared.envelope import Envelope
from shared.settings import Settings
from tests.conftest import KafkaListeners


def signed_in(
    listeners: KafkaListeners,
    password: str = SASL_PASSWORD,
    mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN",
) -> Settings:
    assert listeners.sasl, "the test broker has no SASL listener"
    return Settings(
        kafka_bootstrap=listeners.sasl,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username=SASL_USERNAME,
        kafka_sasl_password=password,
    )


def over_tls(listeners: KafkaListeners, cafile: str | None = None) -> Settings:
    assert listeners.ssl, "the test broker has no TLS listener"
    return Settings(
        kafka_bootstrap=listeners.ssl,
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=cafile if cafile is not None else listeners.ssl_cafile,
    )


def envelope(text: str) -> Envelope:
    return Envelope(
        id=str(uuid4()), type="accord.testkit.NoteWritten.v1", source="/accord/testkit",
        subject=str(uuid4()), time=datetime.now(UTC), key="c-1", data={"text": text},
    )  # fmt: skip


async def round_trip(settings: Settings) -> None:
    """Publish one message and consume it back, through the cluster `settings` name."""
    access = KafkaAccess.of(settings)
    bus = KafkaBus(access, "accord-security-test")
    topic = f"accord.secured{uuid4().hex[:8]}.v1"
    publisher = bus.publisher("writer")
    sent = envelope("through a secured listener")
    await publisher.start()
    try:
        await publisher.publish(topic, [sent])
    finally:
        await publisher.stop()
    consumer = bus.consumer([topic], group=f"secured-{uuid4().hex[:8]}")

    async def from_the_start(partitions: list[Partition]) -> dict[Partition, int]:
        return {p: 0 for p in partitions}

    await consumer.start(from_the_start)
    try:
        async with asyncio.timeout(30):
            received = []
            while not received:
                received = await consumer.fetch(timeout=0.5, max_records=10)
    finally:
        await consumer.stop()
    assert dict(received[0].headers)["ce_id"] == sent.id.encode()
    assert json.loads(received[0].value or b"") == {"text": "through a secured listener"}


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_clients_sign_in_to_a_cluster_that_asks_for_credentials(
    kafka_listeners: KafkaListeners, mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
) -> None:
    settings = signed_in(kafka_listeners, mechanism=mechanism)
    assert SASL_PASSWORD not in repr(KafkaAccess.of(settings))  # never in a log line
    await round_trip(settings)


async def test_clients_sign_in_over_tls_as_managed_clusters_ask(
    kafka_listeners: KafkaListeners,
) -> None:
    assert kafka_listeners.sasl_ssl, "the test broker has no SASL_SSL listener"
    settings = signed_in(kafka_listeners, mechanism="SCRAM-SHA-256").model_copy(
        update={
            "kafka_bootstrap": kafka_listeners.sasl_ssl,
            "kafka_security_protocol": "SASL_SSL",
            "kafka_ssl_cafile": Path(kafka_listeners.ssl_cafile),
        }
    )
    await round_trip(settings)


async def test_clients_speak_tls_to_a_broker_whose_certificate_they_trust(
    kafka_listeners: KafkaListeners, tmp_path: Path
) -> None:
    await round_trip(over_tls(kafka_listeners))
    # Trusting another authority than the one that signed the broker's certificate: refused.
    write_tls(tmp_path)
    stranger = str(tmp_path / CA_FILE)
    bus = KafkaBus(KafkaAccess.of(over_tls(kafka_listeners, stranger)), "accord-tls")
    publisher = bus.publisher("doubter")
    with pytest.raises(KafkaError):
        async with asyncio.timeout(30):
            await publisher.start()
    await publisher.stop()


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_a_wrong_password_is_refused(
    kafka_listeners: KafkaListeners, mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
) -> None:
    settings = signed_in(kafka_listeners, password="guessed", mechanism=mechanism)
    bus = KafkaBus(KafkaAccess.of(settings), "accord-sasl")
    publisher = bus.publisher("intruder")
    with pytest.raises(KafkaError):
        async with asyncio.timeout(30):
            await publisher.start()
    await publisher.stop()


def test_the_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_KAFKA_BOOTSTRAP", "kafka-1.example:9093")
    monkeypatch.setenv("ACCORD_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("ACCORD_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("ACCORD_KAFKA_SASL_USERNAME", "accord-prod")
    monkeypatch.setenv("ACCORD_KAFKA_SASL_PASSWORD", "s3cret")
    options = KafkaAccess.of(Settings()).options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "accord-prod", "s3cret"
    )  # fmt: skip
    assert options["ssl_context"].check_hostname  # TLS verifies the brokers' names
    assert "s3cret" not in repr(Settings())
