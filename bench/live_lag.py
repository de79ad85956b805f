"""Live lag: from a command's commit to its read-model row, p50 and p99, at 100 and 400
commands/s offered, on the embedded default.

Run: `.venv/bin/python -m bench.live_lag [--seconds 10] [--rates 100,400]`. Starts `accord dev`
on a scratch data folder and loads `accord demo`; then, at each rate, proposes expectations on
the demo's contract through elicitation's HTTP API (which answers once the event is stored:
the commit), open loop (a command every 1/rate s, whatever the answers), while one asyncpg
connection looks for each answered id in the read model every few milliseconds. The lag of a
command is from its answer to the poll that first saw its row (over-stated by at most one
poll interval). Commands the service could not answer at that rate show as the achieved rate.
`--stock` measures again on a second `accord dev` with ACCORD_PROJECTION_BATCHED=false (each
event applied on its own, the projector before batches), so both are printed from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from services.gateway.projections.schema import SCHEMA_NAME
from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.accord_process import accord_env, accord_running

POLL_SECONDS = 0.002
# A row not seen this long after the last answer counts as lost (and fails the run).
PATIENCE_SECONDS = 30.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Lag:
    """Answered ids and when; seen rows and how long after."""

    def __init__(self) -> None:
        self.answered: dict[str, float] = {}
        self.lags: list[float] = []
        self.failed = 0

    async def watch(self, database: str, until: asyncio.Event) -> None:
        conn = await asyncpg.connect(database)
        try:
            while not (until.is_set() and not self.answered):
                await asyncio.sleep(POLL_SECONDS)
                if not self.answered:
                    continue
                rows = await conn.fetch(
                    f'SELECT expectation_id FROM "{SCHEMA_NAME}".expectations'
                    " WHERE expectation_id = ANY($1::text[])",
                    list(self.answered),
                )
                now = time.perf_counter()
                for row in rows:
                    self.lags.append(now - self.answered.pop(row["expectation_id"]))
        finally:
            await conn.close()


async def offer(
    base: str, database: str, contract: str, rate: float, seconds: float
) -> tuple[Lag, float]:
    """Commands at `rate` for `seconds`; the lags seen and the rate answered."""
    lag, stop = Lag(), asyncio.Event()
    settings = Settings()
    token = mint_token(settings, "cfo")
    headers = {"authorization": f"Bearer {token}"}
    url = f"{base}/elicitation/contracts/{contract}/expectations"
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        watcher = asyncio.create_task(lag.watch(database, stop))

        async def one(n: int) -> None:
            body = {"text": f"Lag probe {n}", "business_area": "finance", "why_it_matters": "x"}
            try:
                response = await http.post(url, json=body, headers=headers)
            except httpx.TransportError:
                lag.failed += 1
                return
            if response.status_code != 200:
                lag.failed += 1
                return
            lag.answered[str(response.json()["id"])] = time.perf_counter()

        started, sent = time.perf_counter(), []
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            sent.append(asyncio.create_task(one(n)))
        await asyncio.gather(*sent)
        answered_rate = (len(sent) - lag.failed) / (time.perf_counter() - started)
        stop.set()
        async with asyncio.timeout(PATIENCE_SECONDS):
            await watcher
    return lag, answered_rate


def measure(rates: list[float], seconds: float, label: str, **env: str) -> None:
    """`accord dev` with `env`, the demo loaded, then each rate offered in turn."""
    with (
        tempfile.TemporaryDirectory() as data,
        accord_running(None, accord_env(Path(data), **env)) as running,
    ):
        base = running.url.removesuffix("/graphql")
        demo = subprocess.run(
            [sys.executable, "-m", "accord", "demo", "--url", base],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        contract = json.loads(demo.stdout)["contract_id"]
        for rate in rates:
            lag, answered = asyncio.run(offer(base, running.database, contract, rate, seconds))
            ms = [1000 * x for x in lag.lags]
            print(
                f"{label}: {rate:>5.0f} commands/s offered, {answered:6.1f} answered/s:"
                f" commit to read model p50 {statistics.median(ms):7.1f} ms,"
                f" p99 {percentile(ms, 0.99):7.1f} ms ({len(ms)} rows, {lag.failed} refused)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rates", default="100,400")
    parser.add_argument("--stock", action="store_true", help="also measure one event at a time")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    measure(rates, args.seconds, "batches together")
    if args.stock:
        measure(rates, args.seconds, "one by one      ", ACCORD_PROJECTION_BATCHED="false")


if __name__ == "__main__":
    main()
