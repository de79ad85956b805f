"""The audit log's order is the same live and after a replay from the event stores or from
Kafka: each event keeps its place in its service's log (the notification id its checkpoints
cover), and the log is ordered by the recorded instant, the service, then that place."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from services.elicitation.application import Expectations
from services.gateway.projections import audit
from services.gateway.replay import rebuild
from services.ranking.application import Prioritizations
from shared.bus_kafka import KafkaPublisher
from shared.relay import event_id
from shared.runtime import build_runtime
from shared.settings import Settings
from tests.integration.gateway.projecting import project_everything
from tests.integration.gateway.test_replay import (
    Progress,
    a_delivered_contract,
    prioritized,
    relay_everything,
)

IN_ORDER = (
    "SELECT event_id, source, log_position FROM audit_log WHERE contract_id = $1"
    f" ORDER BY {audit.ORDER_BY}"
)


async def places_in_service_logs(runtime: Any, service: str) -> dict[str, tuple[str, int]]:
    """Each stored event's id, with its service and notification id."""
    notifications = await asyncio.to_thread(runtime.app.recorder.select_notifications, 0, 100_000)
    return {
        event_id(n.originator_id, n.originator_version): (f"/accord/{service}", n.id)
        for n in notifications
    }


async def test_a_replay_from_the_stores_or_from_kafka_gives_every_event_its_live_place(
    settings: Settings, pool: asyncpg.Pool, schema: str
) -> None:
    elicitation = await build_runtime(
        "elicitation", Expectations, settings, KafkaPublisher(settings.kafka_bootstrap, "e")
    )
    ranking = await build_runtime(
        "ranking", Prioritizations, settings, KafkaPublisher(settings.kafka_bootstrap, "r")
    )
    try:
        contract_id, expectations = await asyncio.to_thread(a_delivered_contract, elicitation.app)
        await asyncio.to_thread(prioritized, ranking.app, contract_id, expectations)
        for runtime in (elicitation, ranking):
            await relay_everything(runtime)
        places = {
            **await places_in_service_logs(elicitation, "elicitation"),
            **await places_in_service_logs(ranking, "ranking"),
        }
        await project_everything(settings, pool)
        live = [tuple(r) for r in await pool.fetch(IN_ORDER, str(contract_id))]

        # Every event of both services is there, at its place in its service's log.
        assert {r[1] for r in live} == {"/accord/elicitation", "/accord/ranking"}
        assert all(places[eid] == (source, place) for eid, source, place in live)

        await rebuild(settings, "store", Progress(), schema=schema)
        assert [tuple(r) for r in await pool.fetch(IN_ORDER, str(contract_id))] == live

        await rebuild(settings, "kafka", Progress(), schema=schema)
        assert [tuple(r) for r in await pool.fetch(IN_ORDER, str(contract_id))] == live
    finally:
        await elicitation.stop()
        await ranking.stop()
