"""`accord replay`: read models rebuilt from Kafka or from the event stores equal the live ones,
row for row, and the live projector carries on in the rebuilt schema."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from services.elicitation.application import Elicitation
from services.gateway.projector import PROJECTION
from services.gateway.replay import rebuild
from services.gateway.replay_runners import ReplayFailed
from services.gateway.stored_events import Decode, stored_envelope
from services.ranking.application import Prioritizations
from services.ranking.result import Method
from shared.bus_kafka import KafkaPublisher
from shared.envelope import Envelope
from shared.provenance import acting_as
from shared.relay import envelope_of
from shared.runtime import build_runtime
from shared.schemas.registry import topic_for
from shared.settings import Settings
from tests.integration.gateway.projecting import (
    every_table,
    project_everything,
    projector,
    wait_until_read,
)
from tests.integration.gateway.story import Story, elicitation_story, ranking_story, whole_story
from tests.unit.elicitation import story as meeting

# Where a message sat on the bus, and the audit log's arrival counter: the only columns a
# rebuild may give differently (arrival order differs between any two reads of many topics).
BUS_POSITION = {"audit_log": ("position",)}
STORE_POSITION = {"audit_log": ("position", "partition", "offset")}


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))


async def leftover_schemas(pool: asyncpg.Pool, schema: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 AND nspname <> $2",
        f"{schema}%",
        schema,
    )
    return [r["nspname"] for r in rows]


@pytest.mark.parametrize("processes", [2, 1], ids=["two_processes", "one_process"])
async def test_a_rebuild_from_kafka_equals_the_live_read_models_row_for_row(
    settings: Settings,
    pool: asyncpg.Pool,
    schema: str,
    publisher: KafkaPublisher,
    processes: int,
) -> None:
    # The topics loaded by two processes, each the messages of its share of the contracts
    # by their keys, or by this one.
    settings = settings.model_copy(update={"replay_processes": processes})
    first = whole_story()
    await publisher.publish(topic_for("elicitation"), first.elicitation)
    await publisher.publish(topic_for("ranking"), first.ranking)
    # The second contract's ranking is projected before its expectations exist.
    second = ranking_story(elicitation_story(Story()))
    await publisher.publish(topic_for("ranking"), second.ranking)
    async with projector(settings, pool):
        await wait_until_read(pool, settings.kafka_bootstrap)
        await publisher.publish(topic_for("elicitation"), second.elicitation)
        await wait_until_read(pool, settings.kafka_bootstrap)
        live = await every_table(pool, schema, leave_out=BUS_POSITION)
        assert all(
            live[t]
            for t in (
                "expectation_versions",
                "corporate_priorities",
                "gaps",
                "baseline_signatures",
                "deadline_warnings",
                "deadline_policies",
            )
        )

        progress = Progress()
        # The live projector keeps running while the rebuild reads and swaps.
        applied = await rebuild(settings, "kafka", progress, schema=schema)

        rebuilt = await every_table(pool, schema, leave_out=BUS_POSITION)
        for table, rows in live.items():
            assert rebuilt[table] == rows, f"{table} differs after the rebuild"
        assert applied >= len(first.elicitation + first.ranking + second.elicitation)
        # Progress counts records; a record may carry a fact stored on two aggregates.
        done, total = progress.calls[-1]
        assert done == total > 0
        assert await leftover_schemas(pool, schema) == []

        # The live projector carries on, in the rebuilt tables.
        third = whole_story()
        await publisher.publish(topic_for("elicitation"), third.elicitation)
        await wait_until_read(pool, settings.kafka_bootstrap)
        count = "SELECT count(*) FROM expectations WHERE contract_id = $1"
        assert await pool.fetchval(count, third.ids.contract) == 5


async def test_a_rebuild_from_kafka_without_a_live_schema_creates_it(
    settings: Settings, pool: asyncpg.Pool, schema: str, publisher: KafkaPublisher
) -> None:
    story = whole_story()
    await publisher.publish(topic_for("elicitation"), story.elicitation)
    fresh = f"{schema}_fresh"
    await rebuild(settings, "kafka", Progress(), schema=fresh)
    contracts = await pool.fetchval(
        f'SELECT count(*) FROM "{fresh}".contracts WHERE contract_id = $1', story.ids.contract
    )
    assert contracts == 1
    await pool.execute(f'DROP SCHEMA "{fresh}" CASCADE')


def a_delivered_contract(app: Elicitation) -> tuple[UUID, list[str]]:
    """Through the elicitation service's own application: a contract delivered and measured;
    answers its id and its two measurable expectations."""
    story = meeting.Story(app)
    scanners = story.committed()
    report = story.measurable()
    story.do(
        app.give_provider_advice, report, by=meeting.SAM, importance="low",
        feasibility="feasible", advice="Easy",
    )  # fmt: skip
    measurement = story.measured(scanners, "91.5").created
    gap = story.do(
        app.acknowledge_gap, scanners, measurement, by=meeting.AMIRA, cause="Thin night cover"
    ).created
    story.do(
        app.agree_recovery_plan, scanners, gap, by=meeting.AMIRA, agreed_with=meeting.LI,
        steps=[{"action": "Hire", "owner": meeting.SAM, "due_on": "2025-07-15"}],
        revised_target="92",
    )  # fmt: skip
    story.do(app.complete_recovery_step, scanners, gap, 1, by=meeting.SAM, note="Hired")
    story.obligation()
    story.risk()
    return story.contract_id, [str(scanners), str(report)]


def prioritized(app: Prioritizations, contract_id: UUID, expectations: list[str]) -> None:
    with acting_as(meeting.AMIRA, "provider_account_manager"):
        session = app.open_prioritization(
            contract_id, expectations, [meeting.LI, meeting.TOM], Method.BORDA, meeting.AMIRA
        ).id
    for voter, ranking in [(meeting.LI, expectations), (meeting.TOM, expectations[::-1])]:
        with acting_as(voter, "client_decision_maker"):
            app.cast_vote(session, voter, {"ranking": ranking})
    with acting_as(meeting.AMIRA, "provider_account_manager"):
        app.close_prioritization(session, meeting.AMIRA)


def projected(envelope: Envelope) -> dict[str, Any]:
    """What read models are made of: the envelope without its tamper-evidence chain, which
    auditors check against the stores themselves (shared/audit), never in a read model."""
    chain = ("chain_hash", "previous_hash")
    return {k: v for k, v in vars(envelope).items() if k not in chain}


async def relay_everything(runtime: Any) -> None:
    await runtime.relay.publisher.start()
    while await runtime.relay.publish_next_batch():
        pass


@pytest.mark.parametrize(
    ("batched", "decode", "runners", "processes"),
    [
        (True, "accord", 2, 2),
        (False, "accord", 2, 2),
        (True, "stock", 2, 2),
        (True, "accord", 1, 1),
    ],
    ids=["together", "one_by_one", "stock_decode", "one_runner_one_process"],
)
async def test_a_rebuild_from_the_event_stores_equals_the_live_read_models(
    settings: Settings,
    pool: asyncpg.Pool,
    schema: str,
    batched: bool,
    decode: Decode,
    runners: int,
    processes: int,
) -> None:
    # Batches applied together, or each event on its own (the stock path), live and rebuilt;
    # stored events decoded by orjson, or by the library's transcoder; what is stored loaded
    # by two processes, each the events of its share of the contracts, or by this one; each
    # batch split between two runners by contract, or applied by one.
    settings = settings.model_copy(
        update={
            "projection_batched": batched,
            "replay_decode": decode,
            "replay_runners": runners,
            "replay_processes": processes,
        }
    )
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

        # What the store gives is what the relay published, field for field.
        for service, runtime in (("elicitation", elicitation), ("ranking", ranking)):
            notifications = await asyncio.to_thread(
                runtime.app.recorder.select_notifications, 0, 100_000
            )
            for n in notifications:
                stored = stored_envelope(
                    service, n.originator_id, n.originator_version, n.topic, n.state,
                    decode=decode, position=n.id,
                )  # fmt: skip
                assert projected(stored) == projected(envelope_of(runtime.app, service, n))

        await project_everything(settings, pool)
        mine = [str(contract_id)]
        live = await every_table(pool, schema, contracts=mine, leave_out=STORE_POSITION)
        assert len(live["expectations"]) == 2 and len(live["rankings"]) == 1
        offsets = (
            "SELECT topic, partition, next_offset FROM projection_offsets"
            " WHERE projection = $1 ORDER BY topic, partition"
        )
        offsets_before = await pool.fetch(offsets, PROJECTION)
        indexes = "SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname"
        indexes_before = await pool.fetch(indexes, schema)

        progress = Progress()
        await rebuild(settings, "store", progress, schema=schema)
        # The indexes a rebuild drops while it loads are all there again.
        assert await pool.fetch(indexes, schema) == indexes_before

        rebuilt = await every_table(pool, schema, contracts=mine, leave_out=STORE_POSITION)
        for table, rows in live.items():
            assert rebuilt[table] == rows, f"{table} differs after the rebuild"
        # The projector resumes from where it was on Kafka: stored events have no offsets.
        assert await pool.fetch(offsets, PROJECTION) == offsets_before
        assert progress.calls[-1][0] == progress.calls[-1][1] > 0
    finally:
        await elicitation.stop()
        await ranking.stop()


async def test_a_rebuild_whose_loading_process_is_killed_fails_and_leaves_the_live_models(
    settings: Settings, pool: asyncpg.Pool, schema: str
) -> None:
    # kill -9 of one of the processes that load what is stored: the rebuild says so and is
    # dropped whole; the live read models serve on as they were.
    settings = settings.model_copy(update={"replay_processes": 2})
    elicitation = await build_runtime(
        "elicitation", Elicitation, settings, KafkaPublisher(settings.kafka_bootstrap, "e")
    )
    try:
        contract_id, _ = await asyncio.to_thread(a_delivered_contract, elicitation.app)
        await relay_everything(elicitation)
        await project_everything(settings, pool)
    finally:
        await elicitation.stop()
    live = await every_table(pool, schema, contracts=[str(contract_id)])

    rebuilding = asyncio.create_task(rebuild(settings, "store", Progress(), schema=schema))
    killed: list[str] = []
    async with asyncio.timeout(60):  # a bounded wait for the process to start
        while not killed and not rebuilding.done():
            for child in multiprocessing.active_children():
                if child.name.startswith("accord-replay-") and child.pid is not None:
                    os.kill(child.pid, signal.SIGKILL)
                    killed.append(child.name)
                    break
            await asyncio.sleep(0.005)
    with pytest.raises(
        ReplayFailed, match=f"{killed[0]} ended with exit code -9, without an answer"
    ):
        await rebuilding
    assert await leftover_schemas(pool, schema) == []
    assert await every_table(pool, schema, contracts=[str(contract_id)]) == live
