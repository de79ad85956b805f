"""Deadline warnings reach Kafka consumers: an obligation left open past its due date raises
DeadlineApproaching at each threshold and DeadlineMissed at the deadline, relayed to a real
broker, each valid against its published JSON Schema and keyed by its contract."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import jsonschema

from services.elicitation.application import Elicitation
from services.elicitation.deadlines import DeadlineView, policy_defaults
from shared.bus_kafka import KafkaBus
from shared.database import create_pool
from shared.deadlines.timing import due_at_end_of, instant
from shared.envelope import Envelope
from shared.runtime import build_runtime
from shared.schemas.registry import registry
from shared.settings import Settings
from tests.integration.elicitation.test_deadline_warnings import (
    SERVICE,
    Worker,
    accepted_obligation,
)
from tests.integration.kafka_tools import read_topic
from tests.unit.elicitation.story import LI, Story

TOPIC = "accord.elicitation.v1"


async def deadline_events(bootstrap: str, contract: str, count: int) -> list[Envelope]:
    async with asyncio.timeout(60):
        while True:
            found = [m.envelope() for m in await read_topic(bootstrap, TOPIC, key=contract)]
            warnings = [e for e in found if e.spec.name.startswith("Deadline")]
            if len(warnings) >= count:
                return warnings
            await asyncio.sleep(0.2)


async def test_a_consumer_receives_each_warning_once_valid_against_its_contract(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)
    publisher = KafkaBus(kafka_bootstrap).publisher(SERVICE)
    await publisher.start()
    runtime = await build_runtime(SERVICE, Elicitation, settings, publisher)
    pool = await create_pool(database_url, SERVICE)
    view = DeadlineView(policy_defaults(settings), lambda: datetime.now(UTC))
    await pool.execute(view.view.schema)
    worker = Worker(runtime, pool, view)
    try:
        story = Story(runtime.app)
        due_on = date.today() + timedelta(days=4)
        obligation = accepted_obligation(story, due_on)
        await worker.catch_up()
        starts, due = datetime.now(UTC), due_at_end_of(due_on)
        for moment in (
            instant(starts, due, 50) + timedelta(seconds=1),
            instant(starts, due, 75) + timedelta(seconds=1),
            due + timedelta(seconds=1),
            due + timedelta(days=1),  # nothing new: each warning once
        ):
            await worker.raise_at(moment)
        while await runtime.relay.publish_next_batch():
            pass

        received = await deadline_events(kafka_bootstrap, str(story.contract_id), 3)
    finally:
        await pool.close()
        await runtime.stop()

    assert [e.spec.name for e in received] == [
        "DeadlineApproaching", "DeadlineApproaching", "DeadlineMissed",
    ]  # fmt: skip
    for envelope in received:
        spec = registry.lookup(envelope.type)
        jsonschema.validate(envelope.data, spec.json_schema())
        assert envelope.key == envelope.data["contract_id"] == str(story.contract_id)
        assert envelope.data["item_id"] == str(obligation)
        assert envelope.data["owner"] == LI
    assert [e.data.get("threshold") for e in received] == [50, 75, None]
