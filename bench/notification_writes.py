"""What notification planning writes per proposed expectation, and notices planned per second.

Run: `.venv/bin/python -m bench.notification_writes [proposals]`. Starts an embedded
PostgreSQL, and on it, for each way of recording notices (one aggregate per notice, as before
v2: `ACCORD_NOTIFY_RECORD_EACH_NOTICE=true`; and one record per source event, the default),
the real elicitation application and the real notifications service (view, inbox,
dispatcher, ledger, delivery worker) on one in-process bus, each on a database of its own.
Sixteen clients propose expectations at once on one contract; each proposal notifies two
people in the app. It prints, per way, the notification events stored and the inserts (event
store transactions) per proposal, and notices planned and delivered per second from the first
proposal to the last notice recorded as delivered; then the ratios of the default to the old.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from accord.infra import postgres
from services.elicitation.application import Elicitation as ElicitationApp
from services.notifications.api import create_app
from services.notifications.settings import NotifySettings
from shared.bus_memory import InProcessBus
from shared.runtime import build_runtime
from shared.settings import Settings
from tests.integration.notifications.contract_story import Elicitation

CLIENTS = 16
RECIPIENTS = 2  # the proposer and the account manager (the default policy), both in-app
WAYS = {"one aggregate per notice (before)": True, "one record per source event": False}


@dataclass
class Figures:
    proposals: int
    events: int
    inserts: int
    seconds: float

    @property
    def events_per_proposal(self) -> float:
        return self.events / self.proposals

    @property
    def inserts_per_proposal(self) -> float:
        return self.inserts / self.proposals

    @property
    def notices_per_second(self) -> float:
        return self.proposals * RECIPIENTS / self.seconds


class InsertCounter:
    """Counts the event store's insert transactions, whatever recorder the application has."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def wrap(self, insert: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            result = insert(*args, **kwargs)
            with self._lock:
                self.count += 1
            return result

        return counted


@contextlib.asynccontextmanager
async def lifespan_of(app: Any) -> AsyncIterator[None]:
    async with app.router.lifespan_context(app):
        yield


async def scratch_database(server_url: str, name: str) -> str:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


async def measure(server_url: str, name: str, each_notice: bool, proposals: int) -> Figures:
    database = await scratch_database(server_url, name)
    settings = Settings(database_url=database, jwt_secret="bench-notification-writes-secret-32")
    notify = NotifySettings(record_each_notice=each_notice, delivery_interval_seconds=0.05)
    bus = InProcessBus()
    app = create_app(settings, bus, notify)
    elicitation_runtime = await build_runtime(
        "elicitation", ElicitationApp, settings, bus.publisher("elicitation")
    )
    await elicitation_runtime.start()
    elicitation = Elicitation(elicitation_runtime)
    try:
        async with lifespan_of(app):
            runtime = app.state.runtime
            counter = InsertCounter()
            recorder = runtime.app.recorder
            recorder.insert_events = counter.wrap(recorder.insert_events)
            pool = app.state.workers.pool
            contract = await elicitation.contract("am", "")
            await elicitation.join(contract, "am", "dm", "client_decision_maker")
            await until(pool, "SELECT count(*) >= 2 FROM view_participants")
            stored = f"SELECT count(*) FROM {recorder.events_table_name}"
            events_before = await pool.fetchval(stored)
            inserts_before = counter.count
            started = time.perf_counter()
            queue: asyncio.Queue[int] = asyncio.Queue()
            for n in range(proposals):
                queue.put_nowait(n)

            async def client() -> None:
                while not queue.empty():
                    n = queue.get_nowait()
                    await elicitation.run(
                        "propose_expectation", contract, by="dm", text=f"Expectation {n}",
                        business_area="ops",
                    )  # fmt: skip

            await asyncio.gather(*(client() for _ in range(CLIENTS)))
            await until(
                pool,
                f"SELECT count(*) >= {proposals * RECIPIENTS} FROM notices"
                " WHERE status = 'delivered'",
            )
            seconds = time.perf_counter() - started
            # Whatever the ledger applied last was stored before it: the counts are complete.
            return Figures(
                proposals=proposals,
                events=await pool.fetchval(stored) - events_before,
                inserts=counter.count - inserts_before,
                seconds=seconds,
            )
    finally:
        await elicitation_runtime.stop()


async def until(pool: asyncpg.Pool, query: str, timeout: float = 600) -> None:
    async with asyncio.timeout(timeout):
        while not await pool.fetchval(query):  # noqa: ASYNC110 - polls another task's tables
            await asyncio.sleep(0.02)


async def main(proposals: int) -> None:
    figures: dict[str, Figures] = {}
    with (
        tempfile.TemporaryDirectory(prefix="accord-bench-") as workdir,
        postgres.start(Path(workdir), durable=True) as server,
    ):
        for n, (way, each_notice) in enumerate(WAYS.items()):
            database = f"bench_writes_{n}"
            figures[way] = await measure(server.url, database, each_notice, proposals)
    print(f"{proposals} proposals by {CLIENTS} clients, {RECIPIENTS} in-app notices each")
    for way, f in figures.items():
        print(
            f"  {way:36} {f.events_per_proposal:5.2f} events/proposal"
            f"  {f.inserts_per_proposal:5.2f} inserts/proposal"
            f"  {f.notices_per_second:7.0f} notices/s"
        )
    before, after = figures.values()
    print(
        f"  ratio (after / before): events {after.events / before.events:.2f}x,"
        f" inserts {after.inserts / before.inserts:.2f}x,"
        f" notices/s {after.notices_per_second / before.notices_per_second:.2f}x"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 400))
