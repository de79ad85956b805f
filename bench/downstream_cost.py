"""What the work downstream of a proposed expectation costs `accord dev` in CPU, new path and old.

Run: `OTEL_SDK_DISABLED=true .venv/bin/python -m bench.downstream_cost [--proposals N]`.
Starts one PostgreSQL server (the embedded one, fsync on) and on it, each on a database of
its own, one `accord dev` per way:

- new: the defaults (notifications' and ranking's views apply a batch together, planning
  reads each contract once per batch, the notifications ledger groups a batch's statements);
- old: `ACCORD_NOTIFY_BATCHED=false` (notifications' view and ledger one event at a time,
  everything planning reads read again for each event, as before). Ranking's view and the
  gateway's projector are batched in both ways, so their share is not in the ratio. `--old`
  names other settings for it: `--old ACCORD_PROJECTION_LINGER_MS=0` measures what the
  services' views gain by lingering for bigger batches.

In alternating rounds, 16 clients post N proposals through elicitation's HTTP endpoint; the
bench then waits until every notice of them is delivered and the process is idle, and reads
the process's CPU time (/proc/PID/stat). Each proposal is stored, relayed, projected by the
gateway, ranking and notifications, planned into two notices, queued, delivered and recorded:
the figure is the CPU of all of it, per 1,000 proposals, minus what the process spends idle
over the same time. The PostgreSQL server's CPU is printed beside it. The ratio new/old is the
median of the rounds' ratios.

The notices go in the app by default, which records them delivered in the save that queues
them. With `--webhook` everyone prefers a webhook to a receiver the bench serves (it answers at
once), so every notice goes through the delivery worker: claimed, sent, its outcome recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import orjson
import psutil
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from accord.infra import postgres
from bench.load import ACCEPTED, Outcome, drive, median, postmaster_of, server_cpu, until_idle
from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.accord_process import RunningAccord, accord_env, start_accord
from tests.integration.http_server import serving

CLIENTS = 16
DECISION_MAKERS = [f"dm{n}" for n in range(1, 9)]
NOTICES_PER_PROPOSAL = 2  # the proposer and the account manager, in the app (default policy)
WAYS: dict[str, dict[str, str]] = {
    "new": {},
    "old": {"ACCORD_NOTIFY_BATCHED": "false"},
}


@dataclass(frozen=True)
class Stage:
    """Where a way's proposals go: its `accord dev`, its contract, each person's headers."""

    base: str
    contract: str
    headers: dict[str, dict[str, str]]


@dataclass
class Way:
    name: str
    database: str
    accord: RunningAccord
    stage: Stage
    idle_cpu_per_second: float = 0.0
    cpu: list[float] = field(default_factory=list)  # per 1,000 proposals, round by round
    database_cpu: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def scratch_database(server_url: str, name: str) -> str:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@contextlib.contextmanager
def accord_dev(database: str, data_dir: Path, extra: dict[str, str]) -> Iterator[RunningAccord]:
    env = accord_env(data_dir, **extra)
    env["DATABASE_URL"] = database
    running = start_accord(None, env)
    try:
        yield running
    finally:
        running.interrupt()


async def delivered(database: str) -> int:
    conn = await asyncpg.connect(database)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM notifications.notices WHERE status = 'delivered'"
        )
        return count
    finally:
        await conn.close()


async def idle_rate(pid: int, seconds: float = 3.0) -> float:
    """CPU seconds per second the process spends with nothing to do (its polling loops)."""
    await until_idle(pid)
    process = psutil.Process(pid)
    before = cpu_seconds(process)
    await asyncio.sleep(seconds)
    return (cpu_seconds(process) - before) / seconds


@contextlib.contextmanager
def profiled(pid: int, into: Path | None) -> Iterator[None]:
    """py-spy samples the process meanwhile (raw, folded stacks): the thread holding the
    interpreter at each sample (`--gil`), so the profile is the process's Python CPU, not the
    store threads waiting for work."""
    if into is None:
        yield
        return
    into.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).parent / "py-spy"
    command = [str(spy), "record", "-p", str(pid), "-r", "50", "--gil", "-f", "raw"]
    command += ["-o", str(into)]
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        sampler.send_signal(signal.SIGINT)
        sampler.wait(timeout=60)


async def one_round(
    way: Way, proposals: int, postmaster: psutil.Process, profile: Path | None = None
) -> None:
    process = psutil.Process(way.accord.process.pid)
    await until_idle(process.pid)
    with profiled(process.pid, profile):
        await posted_and_done(way, proposals, postmaster, process)


async def posted_and_done(
    way: Way, proposals: int, postmaster: psutil.Process, process: psutil.Process
) -> None:
    expected = await delivered(way.database) + proposals * NOTICES_PER_PROPOSAL
    started, cpu, db_cpu = time.monotonic(), cpu_seconds(process), server_cpu(postmaster)
    stage = way.stage
    url = f"{stage.base}/elicitation/contracts/{stage.contract}/expectations"
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:

        async def send(n: int) -> Outcome:
            body = {"text": f"Proposal {n}", "business_area": "operations",
                    "why_it_matters": "measured"}  # fmt: skip
            person = DECISION_MAKERS[n % len(DECISION_MAKERS)]
            response = await http.post(
                url, content=orjson.dumps(body), headers=stage.headers[person]
            )
            if response.status_code == 200:
                return ACCEPTED
            return Outcome(ok=False, problem=f"{response.status_code} {response.text}")

        figures = await drive(send, CLIENTS, requests=proposals)
    if figures.refused:
        raise RuntimeError(f"{way.name}: {figures.refused} refused: {figures.problems}")
    answered = time.monotonic() - started
    async with asyncio.timeout(900):
        while await delivered(way.database) < expected:  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.2)
    await until_idle(process.pid, timeout=120)
    seconds = time.monotonic() - started
    used = cpu_seconds(process) - cpu - way.idle_cpu_per_second * seconds
    per_thousand = 1000 / proposals
    way.cpu.append(used * per_thousand)
    way.database_cpu.append((server_cpu(postmaster) - db_cpu) * per_thousand)
    way.seconds.append(seconds)
    print(
        f"  {way.name:4} {used * per_thousand:7.2f} CPU s per 1,000 proposals"
        f"  (PostgreSQL {way.database_cpu[-1]:6.2f})  answered in {answered:5.1f} s,"
        f" all done in {seconds:5.1f} s",
        flush=True,
    )


def stage_of(running: RunningAccord, settings: Settings) -> Stage:
    """A contract through the service API: the account manager, a sponsor, the decision makers."""
    base = running.url.removesuffix("/graphql")
    headers = {
        person: {
            "authorization": f"Bearer {mint_token(settings, person)}",
            "content-type": "application/json",
        }
        for person in [*DECISION_MAKERS, "am", "ceo"]
    }
    with httpx.Client(base_url=f"{base}/elicitation", timeout=60) as http:

        def post(person: str, path: str, body: dict[str, str]) -> dict[str, object]:
            response = http.post(path, content=orjson.dumps(body), headers=headers[person])
            if response.status_code != 200:
                raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
            answer: dict[str, object] = response.json()
            return answer

        contract = str(post("am", "/contracts", {
            "client_organisation": "Northwind Retail", "provider_organisation": "Contoso",
            "title": "Benchmark contract", "starts_on": "2027-01-01", "name": "Ann Marsh",
            "role": "provider_account_manager", "email": "am@contoso.example",
        })["id"])  # fmt: skip
        post("am", f"/contracts/{contract}/participants", {
            "person_id": "ceo", "name": "Eve Carter", "role": "client_sponsor",
            "email": "ceo@northwind.example",
        })  # fmt: skip
        for person in DECISION_MAKERS:
            post("ceo", f"/contracts/{contract}/participants", {
                "person_id": person, "name": person.upper(), "role": "client_decision_maker",
                "email": f"{person}@northwind.example",
            })  # fmt: skip
    return Stage(base, contract, headers)


async def prefer_webhooks(stage: Stage, receiver: str) -> None:
    """Everyone who hears of a proposal prefers a webhook to the bench's receiver; the
    service's view may not know them yet, so each asks until it does."""
    async with httpx.AsyncClient(base_url=f"{stage.base}/notifications", timeout=60) as http:
        for person in [*DECISION_MAKERS, "am"]:
            path = f"/contracts/{stage.contract}/preferences"
            body = {"channel": "webhook", "webhook_url": f"{receiver}/hook"}
            async with asyncio.timeout(60):
                while True:
                    answer = await http.post(path, json=body, headers=stage.headers[person])
                    if answer.status_code == 200:
                        break
                    if answer.status_code != 404:  # 404: the view does not know them yet
                        raise RuntimeError(f"POST {path}: {answer.status_code} {answer.text}")
                    await asyncio.sleep(0.2)


async def _answered(request: Request) -> JSONResponse:
    """The webhook receiver: 200 to every notice, at once."""
    await request.body()
    return JSONResponse({"ok": True})


RECEIVER = Starlette(routes=[Route("/hook", _answered, methods=["POST"])])


async def measure(
    ways: list[Way], proposals: int, rounds: int, server_pid: int, profile: Path | None
) -> None:
    postmaster = psutil.Process(server_pid)
    for way in ways:
        way.idle_cpu_per_second = await idle_rate(way.accord.process.pid)
        print(f"  {way.name:4} idle: {way.idle_cpu_per_second:.3f} CPU s per second", flush=True)
    # A first round each, not counted: start-up work (caches, prepared statements) done.
    print(f"warm-up: {proposals // 4} proposals each", flush=True)
    for way in ways:
        await one_round(way, max(proposals // 4, CLIENTS), postmaster)
        for figures in (way.cpu, way.database_cpu, way.seconds):
            figures.clear()
    for n in range(rounds):
        print(f"round {n + 1}: {proposals} proposals by {CLIENTS} clients", flush=True)
        for way in ways if n % 2 == 0 else ways[::-1]:
            into = profile / f"{way.name}-{n + 1}.txt" if profile else None
            await one_round(way, proposals, postmaster, into)


def report(ways: list[Way], proposals: int) -> None:
    new, old = ways
    print(f"\n== CPU of `accord dev` per 1,000 proposals (median of the rounds), {proposals} each")
    for way in ways:
        print(
            f"  {way.name:4} {median(way.cpu):7.2f} s  (PostgreSQL server {median(way.database_cpu):6.2f} s)"
            f"  {proposals / median(way.seconds):6.1f} proposals/s through to delivery"
        )  # fmt: skip
    ratios = [a / b for a, b in zip(new.cpu, old.cpu, strict=True)]
    db_ratios = [a / b for a, b in zip(new.database_cpu, old.database_cpu, strict=True)]
    print(
        f"  new/old: accord dev CPU {median(ratios):.2f}x,"
        f" PostgreSQL CPU {median(db_ratios):.2f}x (lower is better)"
    )


async def run(options: argparse.Namespace, server_url: str, scratch: Path) -> None:
    settings = Settings()
    server_pid = (await postmaster_of(server_url)).pid
    async with contextlib.AsyncExitStack() as stack:
        receiver = await stack.enter_async_context(serving(RECEIVER)) if options.webhook else ""
        reach = {"ACCORD_NOTIFY_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.0/8"]'} if receiver else {}
        ways = []
        ways_settings = {**WAYS, "old": options.old} if options.old is not None else WAYS
        for name, extra in ways_settings.items():
            database = await scratch_database(server_url, f"bench_downstream_{name}")
            running = stack.enter_context(accord_dev(database, scratch / name, extra | reach))
            stage = await asyncio.to_thread(stage_of, running, settings)
            if receiver:
                await prefer_webhooks(stage, receiver)
            ways.append(Way(name, database, running, stage))
        await measure(ways, options.proposals, options.rounds, server_pid, options.profile)
        report(ways, options.proposals)


def settings_of(text: str) -> dict[str, str]:
    """`K=V,K=V` as environment variables."""
    pairs = [pair.split("=", 1) for pair in text.split(",") if pair]
    if any(len(pair) != 2 for pair in pairs):
        raise argparse.ArgumentTypeError(f"expected K=V[,K=V], got {text!r}")
    return {key: value for key, value in pairs}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.downstream_cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--proposals", type=int, default=1000, help="per round (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="a folder: py-spy samples each way's rounds into it (raw stacks)")  # fmt: skip
    parser.add_argument("--webhook", action="store_true",
                        help="notices by webhook to a receiver of the bench's, through the delivery worker")  # fmt: skip
    parser.add_argument("--old", type=settings_of, default=None,
                        help="the old way's settings, K=V[,K=V] (default ACCORD_NOTIFY_BATCHED=false)")  # fmt: skip
    options = parser.parse_args(argv)
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() != "true":
        print("note: OTEL_SDK_DISABLED is not true: span recording is in the figures")
    channel = "by webhook" if options.webhook else "in the app"
    print(f"{os.cpu_count()} CPUs; an embedded PostgreSQL (fsync on), one `accord dev` per way;"
          f" the notices {channel}")  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="accord-bench-") as scratch,
        postgres.start(Path(scratch) / "postgres", durable=True) as server,
    ):
        asyncio.run(run(options, server.url, Path(scratch)))


if __name__ == "__main__":
    main()
