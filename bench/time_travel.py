"""Time travel's cost: `contract(id, asOf:)` (the contract's events rebuilt into a scratch
schema, read, rolled back) beside `contract(id)` (the live read models), the same selection of
every relation, in the same process on the same database.

Run: `.venv/bin/python -m bench.time_travel [--contracts 20] [--reads 30]`. Starts the embedded
PostgreSQL in a scratch folder, projects the gateway story (tests/integration/gateway/story.py,
about 75 events) of `--contracts` contracts through the projector's handler, then times
`--reads` reads of one contract each way and prints milliseconds per read, the ratio as-of /
live, and how much of the as-of read the rebuild itself took; then healthTrend's path (the
contract at 24 instants of its life: one rebuild read at each instant) against a rebuild for
each instant, in alternating rounds, and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg

from accord.infra import postgres
from services.gateway.context import GatewayContext
from services.gateway.health import MOST_PERIODS as TREND
from services.gateway.health import health_rows_of
from services.gateway.projections import dispatch
from services.gateway.projections.schema import create_tables
from services.gateway.schema import schema
from services.gateway.time_travel import rebuilt, rebuilt_at_each
from shared.auth import Actor
from shared.database import create_pool
from shared.settings import Settings
from tests.integration.gateway.story import AMIRA, whole_story
from tests.integration.gateway.test_time_travel import CONTRACT

LIVE = f"query($c: ID!) {{ contract(id: $c) {CONTRACT} }}"
AS_OF = f"query($c: ID!, $at: DateTime!) {{ contract(id: $c, asOf: $at) {CONTRACT} }}"


async def timed(pool: asyncpg.Pool, query: str, reads: int, **variables: str) -> list[float]:
    seconds = []
    for _ in range(reads):
        context = GatewayContext(
            actor=Actor(AMIRA), refused="", authorization="", request_id="bench",
            pool=pool, http=None, settings=Settings(),  # type: ignore[arg-type]
        )  # fmt: skip
        started = time.perf_counter()
        result = await schema.execute(query, variable_values=variables, context_value=context)
        seconds.append(time.perf_counter() - started)
        assert result.errors is None, result.errors
    return seconds


async def measure(database_url: str, contracts: int, reads: int) -> None:
    pool = await create_pool(database_url, "readmodel")
    try:
        async with pool.acquire() as conn:
            await create_tables(conn)
            for _ in range(contracts):
                story = whole_story()
                events = sorted(story.elicitation + story.ranking, key=lambda e: e.time)
                for offset, envelope in enumerate(events):
                    async with conn.transaction():
                        await dispatch.apply(conn, envelope.at("bench", 0, offset))
        contract, at = story.ids.contract, events[-1].time.isoformat()
        await timed(pool, LIVE, 3, c=contract)  # warm both paths up
        await timed(pool, AS_OF, 3, c=contract, at=at)
        live = statistics.median(await timed(pool, LIVE, reads, c=contract))
        as_of = statistics.median(await timed(pool, AS_OF, reads, c=contract, at=at))
        rebuild = statistics.median(
            [(await rebuilt(pool, contract, events[-1].time, ())).seconds for _ in range(reads)]
        )
        # healthTrend's 24 periods: one rebuild read at each instant, against a rebuild each.
        first, last = events[0].time, events[-1].time
        instants = [first + (last - first) * n / (TREND - 1) for n in range(TREND)]
        one, each = [], []
        for _ in range(max(1, reads // 5)):  # alternating, so a noisy neighbour hits both alike
            started = time.perf_counter()
            await rebuilt_at_each(pool, contract, instants, [health_rows_of])
            one.append(time.perf_counter() - started)
            started = time.perf_counter()
            for at_instant in instants:
                await rebuilt(pool, contract, at_instant, [health_rows_of])
            each.append(time.perf_counter() - started)
    finally:
        await pool.close()
    print(f"{contracts} contracts in the read models, {len(events)} events in the one read")
    print(f"  contract(id)        {live * 1000:8.1f} ms")
    print(f"  contract(id, asOf)  {as_of * 1000:8.1f} ms   ratio {as_of / live:.1f}x")
    print(f"  of which the rebuild {rebuild * 1000:7.1f} ms ({rebuild / as_of:.0%})")
    once, apart = statistics.median(one), statistics.median(each)
    print(f"  {TREND} instants, one rebuild read at each  {once * 1000:8.1f} ms")
    print(f"  {TREND} instants, a rebuild for each        {apart * 1000:8.1f} ms"
          f"   one rebuild is {apart / once:.1f}x as fast (healthTrend)")  # fmt: skip


async def main(contracts: int, reads: int) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="accord-bench-") as workdir,
        postgres.start(Path(workdir), durable=False) as server,
    ):
        await measure(server.url, contracts, reads)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=20)
    parser.add_argument("--reads", type=int, default=30)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.contracts, arguments.reads))
