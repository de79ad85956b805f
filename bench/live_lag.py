"""Live lag: from a command's commit to its read-model row, p50 and p99, at 100 and 400
commands/s offered, on the embedded default and in the distributed mode.

Run: `.venv/bin/python -m bench.live_lag [--seconds 10] [--rates 100,400] [--warmup 3]
[--mode ...]`.
Starts `accord dev` on a scratch data folder (`--mode embedded`, the default) or the five
`accord serve` processes on a real Kafka broker and an embedded PostgreSQL (`--mode
distributed`, bench.distributed), and opens a contract with eight decision makers; offers
`--warmup` seconds of commands at the first rate, not measured; then, at each rate, proposes expectations on it through elicitation's HTTP API (which answers once the event
is stored: the commit), open loop (a command started every 1/rate s, whatever the answers),
while one asyncpg connection looks for each answered id in the read model every few
milliseconds. The lag of a command is from its answer to the poll that first saw its row
(over-stated by at most one poll interval). Requests go through bench.raw_http (kept-alive
connections, bytes in and out), so the generator's own CPU does not cap the rate it offers on a
busy machine as httpx did. Each line prints beside the offered rate the rate
the generator started commands at and the rate Accord answered them at; when Accord answered
less than 95% of the offered rate it says so, and the lags are then those of a backlog.
`--stock` measures again with ACCORD_PROJECTION_BATCHED=false (each event applied on its own,
the projector before batches), so both are printed from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from accord.infra import postgres
from bench import distributed, raw_http
from bench.command_throughput import DECISION_MAKERS, open_contract
from services.gateway.projections.schema import SCHEMA_NAME
from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.accord_process import accord_env, accord_running

POLL_SECONDS = 0.002
ANSWER_TIMEOUT_SECONDS = 60.0
# Below this share of the offered rate answered, the line says the rate was not kept.
KEPT_SHARE = 0.95
MODES = ("embedded", "distributed")
# A row not seen this long after the last answer is printed as unseen (a backlog, or lost).
PATIENCE_SECONDS = 60.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Lag:
    """Answered ids and when; seen rows and how long after."""

    def __init__(self) -> None:
        self.answered: dict[str, float] = {}
        self.lags: list[float] = []
        self.failed = 0
        self.problems: list[str] = []  # the first few, printed under the line

    def fail(self, problem: str) -> None:
        self.failed += 1
        if len(self.problems) < 3:
            self.problems.append(problem[:300])

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


@dataclass(frozen=True)
class Target:
    """Where to propose (elicitation's HTTP API) and where the read model is."""

    elicitation: str
    database: str


@dataclass(frozen=True)
class Offered:
    """One rate offered: the lags seen, the rates started and answered."""

    lag: Lag
    started: float
    answered: float


async def offer(target: Target, contract: str, rate: float, seconds: float) -> Offered:
    """Commands started at `rate` for `seconds`; the lags seen and the rates achieved."""
    lag, stop = Lag(), asyncio.Event()
    settings = Settings()
    headers = {
        person: {"authorization": f"Bearer {mint_token(settings, person)}"}
        for person in DECISION_MAKERS
    }
    path = f"/contracts/{contract}/expectations"
    http = raw_http.Client(target.elicitation)
    try:
        watcher = asyncio.create_task(lag.watch(target.database, stop))

        async def one(n: int) -> None:
            body = {"text": f"Lag probe {n}", "business_area": "finance", "why_it_matters": "x"}
            person = DECISION_MAKERS[n % len(DECISION_MAKERS)]
            try:
                async with asyncio.timeout(ANSWER_TIMEOUT_SECONDS):
                    answer = await http.post(path, body, headers[person])
            except (OSError, TimeoutError, EOFError, raw_http.AnswerUnreadable) as error:
                lag.fail(f"{type(error).__name__}: {error}")
                return
            if answer.status != 200:
                lag.fail(f"{answer.status} {answer.body.decode(errors='replace')}")
                return
            done = answer.json()
            assert isinstance(done, dict)
            lag.answered[str(done["id"])] = time.perf_counter()

        began, sent = time.perf_counter(), []
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, began + n / rate - time.perf_counter()))
            sent.append(asyncio.create_task(one(n)))
        # The generator shares the machine too: the rate it kept is printed, not assumed.
        started_rate = len(sent) / max(time.perf_counter() - began, 1 / rate)
        await asyncio.gather(*sent)
        answered_rate = (len(sent) - lag.failed) / (time.perf_counter() - began)
        stop.set()
        with contextlib.suppress(TimeoutError):  # the ids still answered are printed unseen
            async with asyncio.timeout(PATIENCE_SECONDS):
                await watcher
    finally:
        await http.close()
    return Offered(lag, started_rate, answered_rate)


@contextlib.contextmanager
def accord(mode: str, workdir: Path, **env: str) -> Iterator[Target]:
    """`accord dev`, or the distributed mode on an embedded PostgreSQL, with `env`."""
    if mode == "embedded":
        with accord_running(None, accord_env(workdir / "data", **env)) as running:
            base = running.url.removesuffix("/graphql")
            yield Target(f"{base}/elicitation", running.database)
        return
    with (
        postgres.start(workdir / "postgres", durable=True) as server,
        distributed.stack(server.url, workdir / "stack", **env) as stack,
    ):
        yield Target(stack.elicitation, stack.database)


def measure(
    mode: str, rates: list[float], seconds: float, label: str, warmup: float = 0.0, **env: str
) -> None:
    """Accord in `mode` with `env`, a contract opened, `warmup` seconds of commands at the
    first rate (not measured: the processes' first commands meet cold consumers, connections
    and caches), then each rate offered in turn."""
    with (
        tempfile.TemporaryDirectory(prefix="accord-lag-") as workdir,
        accord(mode, Path(workdir), **env) as target,
    ):
        contract = open_contract(target.elicitation, Settings())
        if warmup:
            asyncio.run(offer(target, contract, rates[0], warmup))
        for rate in rates:
            got = asyncio.run(offer(target, contract, rate, seconds))
            ms = [1000 * x for x in got.lag.lags]
            kept = ""
            if got.started < KEPT_SHARE * rate:
                kept = (
                    f"  NOT KEPT: the generator itself started {got.started / rate:.0%} of the"
                    f" offered rate (a busy machine), Accord answered {got.answered / rate:.0%}"
                )
            elif got.answered < KEPT_SHARE * rate:
                kept = f"  NOT KEPT: Accord answered {got.answered / rate:.0%} of the offered rate"
            print(
                f"{mode:11} {label}: {rate:>5.0f}/s offered, {got.started:6.1f}/s started,"
                f" {got.answered:6.1f}/s answered: commit to read model"
                f" p50 {statistics.median(ms) if ms else 0.0:7.1f} ms,"
                f" p99 {percentile(ms, 0.99) if ms else 0.0:7.1f} ms"
                f" ({len(ms)} rows, {got.lag.failed} refused){kept}"
                + (
                    f"  UNSEEN: {len(got.lag.answered)} rows not in the read model"
                    f" {PATIENCE_SECONDS:.0f} s after the last answer"
                    if got.lag.answered
                    else ""
                ),
                flush=True,
            )
            for problem in got.lag.problems:
                print(f"      e.g. {problem}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of commands first, not measured"
    )
    parser.add_argument("--rates", default="100,400")
    parser.add_argument(
        "--mode", default="embedded", help="embedded, distributed, or both comma-separated"
    )
    parser.add_argument("--stock", action="store_true", help="also measure one event at a time")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    modes = [m for m in MODES if m in args.mode.split(",")]
    if not modes or set(args.mode.split(",")) - set(MODES):
        parser.error(f"--mode is {' or '.join(MODES)}, or both comma-separated")
    for mode in modes:
        measure(mode, rates, args.seconds, "batches together", args.warmup)
        if args.stock:
            measure(
                mode,
                rates,
                args.seconds,
                "one by one      ",
                args.warmup,
                ACCORD_PROJECTION_BATCHED="false",
            )


if __name__ == "__main__":
    main()
