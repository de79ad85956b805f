"""The audit log's order is the same live and after a replay from the event stores or from
Kafka: each event keeps its place in its service's log (the notification id its checkpoints
cover), and the log is ordered by the recorded instant, the service, then that place."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import asyncpg

from services.elicitation.application import Elicitation
from services.gateway.projections import audit, dispatch
from services.gateway.projections.schema import create_tables
from services.gateway.replay import rebuild
from services.ranking.application import Prioritizations
from shared.bus_kafka import KafkaPublisher
from shared.event_ids import event_id
from shared.runtime import build_runtime
from shared.settings import Settings
from tests.integration.gateway.projecting import project_everything
from tests.integration.gateway.story import whole_story
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
        "elicitation", Elicitation, settings, KafkaPublisher(settings.kafka_bootstrap, "e")
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


async def test_a_read_model_made_before_the_log_position_column_gains_it(
    pool: asyncpg.Pool,
) -> None:
    story = whole_story()
    older, newer = story.elicitation[:3], story.elicitation[3]
    async with pool.acquire() as conn:
        for envelope in older:
            async with conn.transaction():
                await dispatch.apply(conn, replace(envelope, position=0))
        # As a read model made before: no column, so no index over it either.
        await conn.execute("ALTER TABLE audit_log DROP COLUMN log_position CASCADE")
        await create_tables(conn)
        async with conn.transaction():
            await dispatch.apply(conn, replace(newer, position=41))
    places = dict(
        await pool.fetch("SELECT event_id, log_position FROM audit_log WHERE source <> ''")
    )
    # Not known for the older events until a replay: the event id settles their order.
    assert places == {**{e.id: 0 for e in older}, newer.id: 41}
