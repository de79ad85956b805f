"""Two projector replicas share the topics' partitions through the consumer group: every event
lands in the read model once, and when one replica dies the other takes its partitions."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from typing import Any

import asyncpg
import httpx
from aiokafka.admin import AIOKafkaAdminClient

from services.elicitation.application import Elicitation
from services.gateway.projector import GROUP
from shared.bus_kafka import KafkaBus
from shared.runtime import build_runtime
from shared.settings import Settings
from tests.e2e.test_full_stack import _wait_ready
from tests.integration.http_server import free_port


def replica(
    database_url: str, kafka_bootstrap: str, port: int, log: Any
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "ACCORD_KAFKA_BOOTSTRAP": kafka_bootstrap}
    return subprocess.Popen(
        [sys.executable, "-m", "accord", "serve", "projector", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


async def group_members(bootstrap: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([GROUP])
        # DescribeGroups: (error_code, group_id, state, protocol_type, protocol, members, ...)
        return len(response.groups[0][5])
    finally:
        await admin.close()


async def propose(settings: Settings, contracts: int, per_contract: int) -> list[str]:
    """Real elicitation commands; answers the expectation ids, each with 2 versions."""
    runtime = await build_runtime(
        "elicitation", Elicitation, settings, KafkaBus(settings.kafka_bootstrap).publisher("scale")
    )
    await runtime.start()
    ids = []
    try:
        for n in range(contracts):

            async def run(command: Any, *args: Any, by: str, **kw: Any) -> Any:
                return await runtime.execute(
                    command, *args, by=by, actor_id=by, actor_role="t", **kw
                )

            contract = (
                await run(
                    runtime.app.open_contract,
                    by="am",
                    client_organisation=f"Client {n}",
                    provider_organisation="P",
                    title="Scale",
                    starts_on="2027-01-01",
                    name="Ann",
                    role="provider_account_manager",
                )
            ).id
            await run(
                runtime.app.join_contract,
                contract,
                by="am",
                person_id="dm",
                name="Dee",
                role="client_decision_maker",
            )
            for m in range(per_contract):
                proposed = await run(
                    runtime.app.propose_expectation,
                    contract,
                    by="dm",
                    text=f"Need {m}",
                    business_area="x",
                )
                await run(
                    runtime.app.refine_expectation,
                    proposed.id,
                    by="am",
                    text=f"Need {m}, measured",
                    terms={"metric": "m"},
                    reason="r",
                )
                ids.append(str(proposed.id))
        async with asyncio.timeout(60):
            while (
                await runtime.relay.positions.load() != runtime.app.recorder.max_notification_id()
            ):
                await asyncio.sleep(0.1)
    finally:
        await runtime.stop()
    return ids


async def versions(pool: asyncpg.Pool, ids: list[str]) -> dict[str, int]:
    rows = await pool.fetch(
        "SELECT expectation_id, count(*) AS n FROM expectation_versions WHERE expectation_id = ANY($1::text[]) GROUP BY 1",
        ids,
    )
    return {r["expectation_id"]: r["n"] for r in rows}


async def test_two_projector_replicas_apply_every_event_once_and_survive_losing_one(
    database_url: str, kafka_bootstrap: str, tmp_path: Any
) -> None:
    settings = Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)
    ports = [free_port(), free_port()]
    replicas = [
        replica(database_url, kafka_bootstrap, p, (tmp_path / f"projector{p}.log").open("w"))
        for p in ports
    ]
    pool = await asyncpg.create_pool(database_url, server_settings={"search_path": "readmodel"})
    try:
        for port in ports:
            await asyncio.to_thread(
                _wait_ready, f"http://127.0.0.1:{port}/readyz", tmp_path / f"projector{port}.log"
            )
        async with asyncio.timeout(60):
            while await group_members(kafka_bootstrap) < 2:
                await asyncio.sleep(0.5)

        first = await propose(settings, contracts=6, per_contract=3)
        async with asyncio.timeout(60):
            while sum((await versions(pool, first)).values()) < 2 * len(first):
                await asyncio.sleep(0.2)

        replicas[0].send_signal(signal.SIGKILL)  # one replica dies mid-life
        replicas[0].wait()
        second = await propose(settings, contracts=6, per_contract=3)
        async with asyncio.timeout(90):
            while sum((await versions(pool, second)).values()) < 2 * len(second):
                await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # anything applied twice would show now
        assert await versions(pool, first + second) == {e: 2 for e in first + second}
        ready = await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{ports[1]}/readyz", timeout=5)
        assert ready.status_code == 200
    finally:
        await pool.close()
        for process in replicas:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
