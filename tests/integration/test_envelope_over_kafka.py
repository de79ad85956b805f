"""The envelope through the real broker: every field kept, and the trace goes on across the hop."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.bus_kafka import KafkaPublisher
from shared.bus_memory import InProcessBus
from shared.envelope import Envelope, to_kafka
from shared.runtime import build_runtime
from shared.settings import Settings
from shared.telemetry import continue_trace
from tests.integration.kafka_tools import read_topic
from tests.support.notes import Notes

TOPIC = "accord.testkit.v1"


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    """Tracing on, for this module only (tests run with OTEL_SDK_DISABLED=true otherwise)."""
    exporter = InMemorySpanExporter()
    disabled = os.environ.pop("OTEL_SDK_DISABLED", None)
    provider = TracerProvider()
    if disabled is not None:
        os.environ["OTEL_SDK_DISABLED"] = disabled
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


async def test_a_round_trip_through_kafka_keeps_every_field(kafka_bootstrap: str) -> None:
    contract_id = str(uuid4())
    sent = Envelope(
        id=str(uuid4()),
        type="accord.testkit.NoteRewritten.v1",
        source="/accord/testkit",
        subject=str(uuid4()),
        time=datetime(2026, 11, 23, 10, 15, 30, 123456, tzinfo=UTC),
        key=contract_id,
        data={"text": "Response within 4 hours", "reason": "made measurable"},
        actor_id="carol",
        actor_role="provider_delivery_lead",
        correlation_id=str(uuid4()),
        causation_id=str(uuid4()),
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        sequence=7,
    )
    publisher = KafkaPublisher(kafka_bootstrap, "round-trip")
    await publisher.start()
    await publisher.publish(TOPIC, [sent])
    await publisher.stop()
    (message,) = await read_topic(kafka_bootstrap, TOPIC, key=contract_id)
    received = message.envelope()
    assert received == replace(
        sent, topic=TOPIC, partition=message.partition, offset=message.offset
    )


async def test_one_trace_spans_the_command_the_broker_and_the_consumer(
    spans: InMemorySpanExporter, database_url: str, kafka_bootstrap: str
) -> None:
    settings = Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)
    runtime = await build_runtime("testkit", Notes, settings, KafkaPublisher(kafka_bootstrap, "t"))
    await runtime.relay.publisher.start()
    tracer = trace.get_tracer("test")
    contract_id = uuid4()
    with tracer.start_as_current_span("POST /commands") as request_span:
        await runtime.execute(
            runtime.app.write, contract_id, "traced", actor_id="a", actor_role="r"
        )
    while await runtime.relay.publish_next_batch():
        pass
    await runtime.stop()

    (message,) = await read_topic(kafka_bootstrap, TOPIC, key=str(contract_id))
    envelope = message.envelope()
    with continue_trace(envelope.traceparent, "projector apply") as consumer_span:
        pass
    trace_id = request_span.get_span_context().trace_id
    assert envelope.traceparent.split("-")[1] == f"{trace_id:032x}"
    assert consumer_span.get_span_context().trace_id == trace_id
    assert consumer_span.parent is not None
    assert consumer_span.parent.span_id == request_span.get_span_context().span_id
    names = {s.name for s in spans.get_finished_spans() if s.context.trace_id == trace_id}
    assert {"POST /commands", "projector apply"} <= names


async def test_the_in_process_bus_delivers_the_same_envelope_as_kafka(kafka_bootstrap: str) -> None:
    settings = Settings(database_url="memory")
    bus = InProcessBus()
    in_process = await build_runtime("testkit", Notes, settings, bus.publisher())
    contract_id = uuid4()
    await in_process.execute(
        in_process.app.write, contract_id, "same", actor_id="a", actor_role="r"
    )
    await in_process.relay.publish_next_batch()
    (local,) = bus.log(TOPIC)
    publisher = KafkaPublisher(kafka_bootstrap, "same")
    await publisher.start()
    await publisher.publish(TOPIC, [local.envelope()])
    await publisher.stop()
    (remote,) = await read_topic(kafka_bootstrap, TOPIC, key=str(contract_id))
    # The in-process bus hands over the envelope, no bytes: the bytes it would carry on Kafka
    # are those Kafka carries, and decode to that same envelope.
    key, value, headers = to_kafka(local.envelope())
    assert (remote.key, remote.value, remote.headers) == (key, value, tuple(headers))
    assert remote.envelope() == local.envelope().at(remote.topic, remote.partition, remote.offset)
    await in_process.stop()
