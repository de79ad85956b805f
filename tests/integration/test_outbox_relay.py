"""The outbox relay on real PostgreSQL and Kafka: in order per contract, nothing lost."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import asyncpg
import pytest

from shared.bus_kafka import KafkaPublisher
from shared.relay import PostgresPositions
from shared.runtime import ServiceRuntime, build_runtime
from shared.settings import Settings
from tests.integration.kafka_tools import read_topic
from tests.support.notes import Notes
from tests.support.statements import noting_pool

TOPIC = "accord.testkit.v1"


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str) -> Settings:
    return Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap, relay_batch_size=7)


async def runtime_for(settings: Settings) -> ServiceRuntime[Notes]:
    publisher = KafkaPublisher(settings.kafka_bootstrap, "test-relay")
    runtime = await build_runtime("testkit", Notes, settings, publisher)
    await publisher.start()
    return runtime


async def write_history(
    runtime: ServiceRuntime[Notes], contracts: list[UUID], rewrites: int
) -> None:
    for contract_id in contracts:
        note_id = await runtime.execute(
            runtime.app.write, contract_id, "v0", actor_id="alice", actor_role="decision_maker"
        )
        for n in range(1, rewrites + 1):
            await runtime.execute(
                runtime.app.rewrite, note_id, f"v{n}", "refined", actor_id="bob", actor_role="lead"
            )


async def drain(runtime: ServiceRuntime[Notes]) -> None:
    while await runtime.relay.publish_next_batch():
        pass


async def test_stored_events_appear_on_kafka_in_order_per_contract(settings: Settings) -> None:
    runtime = await runtime_for(settings)
    contracts = [uuid4() for _ in range(3)]
    await write_history(runtime, contracts, rewrites=4)
    await drain(runtime)
    for contract_id in contracts:
        messages = await read_topic(settings.kafka_bootstrap, TOPIC, key=str(contract_id))
        envelopes = [m.envelope() for m in messages]
        assert [e.data["text"] for e in envelopes] == ["v0", "v1", "v2", "v3", "v4"]
        assert len({m.partition for m in messages}) == 1  # one contract, one partition
        assert envelopes[0].actor_id == "alice" and envelopes[-1].actor_id == "bob"
    await runtime.stop()


async def test_a_relay_stopped_mid_stream_resumes_and_loses_nothing(settings: Settings) -> None:
    first = await runtime_for(settings)
    contracts = [uuid4() for _ in range(6)]
    await write_history(first, contracts, rewrites=5)  # 36 events, batches of 7
    relaying = asyncio.create_task(first.relay.run())
    while first.relay.published < 7:
        await asyncio.sleep(0.01)
    relaying.cancel()  # stopped mid-stream, as by a crash or a deploy
    await asyncio.gather(relaying, return_exceptions=True)
    stopped_at = await first.relay.positions.load()
    last_stored = first.app.recorder.max_notification_id()
    await first.stop()
    assert last_stored is not None and 0 < stopped_at < last_stored  # truly mid-stream

    second = await runtime_for(settings)
    assert await second.relay.positions.load() == stopped_at  # resumes from the recorded position
    await drain(second)
    for contract_id in contracts:
        messages = await read_topic(settings.kafka_bootstrap, TOPIC, key=str(contract_id))
        texts = [m.envelope().data["text"] for m in messages]
        # Every event is there, in order; a repeat of one already published is allowed.
        assert list(dict.fromkeys(texts)) == [f"v{n}" for n in range(6)]
    await second.stop()


async def test_the_relay_reads_where_it_got_to_once_and_records_each_batch(
    settings: Settings,
) -> None:
    runtime = await runtime_for(settings)
    assert runtime.pool is not None
    # The relay's positions on a pool of their own, every statement it runs noted.
    async with noting_pool(settings.database_url, "testkit") as (logged, statements):
        runtime.relay.positions = PostgresPositions(logged, "testkit-kafka")
        await write_history(runtime, [uuid4()], rewrites=20)  # 21 events, batches of 7
        await drain(runtime)

    # Read once; then one upsert per batch published (earlier tests may have left some).
    verbs = [query.split()[0] for query in statements if "outbox_positions" in query]
    assert verbs[0] == "SELECT" and set(verbs[1:]) == {"INSERT"}
    assert len(verbs[1:]) >= 3
    stored = await runtime.pool.fetchval("SELECT position FROM outbox_positions")
    assert stored == runtime.app.recorder.max_notification_id()
    await runtime.stop()


async def test_two_replicas_of_a_service_relay_through_one_leader(settings: Settings) -> None:
    first, second = await runtime_for(settings), await runtime_for(settings)
    await first.start()
    await second.start()
    contract_id = uuid4()
    await write_history(first, [contract_id], rewrites=2)
    await write_history(second, [uuid4()], rewrites=1)
    async with asyncio.timeout(30):
        while first.relay.published + second.relay.published < 5:
            await asyncio.sleep(0.1)
    # One replica relays, the other stands by: no event goes out twice.
    assert {first.relay_standby, second.relay_standby} == {True, False}
    assert 0 in (first.relay.published, second.relay.published)
    texts = [
        m.envelope().data["text"]
        for m in await read_topic(settings.kafka_bootstrap, TOPIC, key=str(contract_id))
    ]
    assert texts == ["v0", "v1", "v2"]
    leader = first if second.relay_standby else second
    standby = second if leader is first else first
    await leader.stop()  # the leader goes away: the standby takes over
    await write_history(standby, [uuid4()], rewrites=0)
    async with asyncio.timeout(30):
        while standby.relay.published == 0:
            await asyncio.sleep(0.1)
    await standby.stop()


class AnswersLate:
    """A pool whose statements run on the server, then wait before the caller hears back: a
    relay cancelled there has stored its position without knowing it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.stored = asyncio.Event()

    async def execute(self, query: str, *args: object) -> str:
        status = await self.pool.execute(query, *args)
        self.stored.set()
        await asyncio.Event().wait()  # the answer never arrives before the cancel
        return status

    async def fetchval(self, query: str, *args: object) -> object:
        return await self.pool.fetchval(query, *args)


async def test_a_position_stored_as_the_relay_is_cancelled_is_read_again(
    database_url: str,
) -> None:
    async with asyncpg.create_pool(database_url, min_size=1, max_size=2) as pool:
        relay = f"cancelled-{uuid4()}"
        await PostgresPositions(pool, relay).create_table()
        late = AnswersLate(pool)
        positions = PostgresPositions(late, relay)  # type: ignore[arg-type]
        assert await positions.load() == 0
        saving = asyncio.create_task(positions.save(42))
        await late.stored.wait()
        saving.cancel()
        await asyncio.gather(saving, return_exceptions=True)
        # The table holds 42; the relay resumes from there, not from what it knew before.
        assert await positions.load() == 42
