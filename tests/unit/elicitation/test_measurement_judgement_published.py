"""A measurement is published with its judgement and the terms it was judged on, so that read
models and consumers never judge again; one stored before the event carried them still loads,
and is published with them null."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from services.elicitation.application import Elicitation
from shared.bus_memory import InProcessBus
from shared.runtime import ServiceRuntime, build_runtime
from shared.settings import Settings
from tests.unit.elicitation.story import AMIRA, MEASURABLE, ROLES, SAM, Story

MEASURED = "accord.elicitation.MeasurementRecorded.v1"
# What the event carries now and did not before.
JUDGED = ("relative_shortfall", "comparison", "target", "target_upper")


def measured_the_old_way(app: Elicitation, expectation_id: UUID, value: str, short: str) -> UUID:
    """A May measurement stored as Accord stored it before the event carried its relative
    shortfall and terms: the stored event's topic and JSON as that code wrote them."""
    measurement_id = uuid4()
    expectation = app.get_expectation(expectation_id)

    def typed(kind: str, data: str) -> dict[str, str]:
        return {"_type_": kind, "_data_": data}

    state: dict[str, Any] = {
        "timestamp": typed("datetime_iso", datetime.now(UTC).isoformat()),
        "contract_id": typed("uuid_hex", expectation.contract_id.hex),
        "expectation_id": typed("uuid_hex", expectation_id.hex),
        "measurement_id": typed("uuid_hex", measurement_id.hex),
        "revision": expectation.revision,
        "period_start": typed("date_iso", "2025-05-01"),
        "period_end": typed("date_iso", "2025-05-31"),
        "value": typed("decimal_str", value),
        "unit": "percent",
        "source": "Ticket export, May",
        "met": short == "0",
        "shortfall": typed("decimal_str", short),
        "recorded_by": SAM,
        "_meta": {
            "actor_id": SAM,
            "actor_role": ROLES[SAM],
            "correlation_id": str(uuid4()),
            "causation_id": "",
            "traceparent": "",
            "contract_id": str(expectation.contract_id),
        },
    }
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=expectation_id,
                originator_version=expectation.version + 1,
                topic="services.elicitation.expectation:Expectation.MeasurementRecorded",
                state=json.dumps(state).encode(),
            )
        ]
    )
    return measurement_id


async def published(runtime: ServiceRuntime[Elicitation], bus: InProcessBus) -> list[Any]:
    while await runtime.relay.publish_next_batch():
        pass
    envelopes = [message.envelope() for message in bus.log("accord.elicitation.v1")]
    return [envelope.data for envelope in envelopes if envelope.type == MEASURED]


async def test_a_measurement_carries_its_judgement_and_the_terms_it_was_judged_on() -> None:
    bus = InProcessBus()
    settings = Settings(database_url="memory")
    runtime = await build_runtime("elicitation", Elicitation, settings, bus.publisher())
    try:
        story = Story(runtime.app)
        expectation = story.committed(
            {**MEASURABLE, "comparison": "within_range", "target": "15", "target_upper": "30"}
        )
        story.measured(expectation, "45")
        [data] = await published(runtime, bus)
    finally:
        await runtime.stop()
    assert (data["met"], data["shortfall"], data["relative_shortfall"]) == (False, "15", "0.5")
    assert (data["comparison"], data["target"], data["target_upper"]) == (
        "within_range",
        "15",
        "30",
    )


async def test_a_measurement_stored_before_it_carried_them_loads_and_is_published_without() -> None:
    bus = InProcessBus()
    settings = Settings(database_url="memory")
    runtime = await build_runtime("elicitation", Elicitation, settings, bus.publisher())
    try:
        story = Story(runtime.app)
        expectation = story.committed()  # at least 95 percent
        measurement = measured_the_old_way(runtime.app, expectation, "91.5", "3.5")
        loaded = runtime.app.get_expectation(expectation).measurements[measurement]
        assert (loaded.met, loaded.shortfall) == (False, Decimal("3.5"))
        # The old measurement is history like any other: its gap can be acknowledged.
        story.do(runtime.app.acknowledge_gap, expectation, measurement, by=AMIRA, cause="Staff")
        story.measured(expectation, "96")
        old, new = await published(runtime, bus)
    finally:
        await runtime.stop()
    assert (old["measurement_id"], old["met"], old["shortfall"]) == (str(measurement), False, "3.5")
    assert [old[field] for field in JUDGED] == [None, None, None, None]
    assert [new[field] for field in JUDGED] == ["0", "at_least", "95", None]
