"""Accord's command path against what the same command costs without it: commands per second.

Run: `.venv/bin/python -m bench.command_throughput` (`--help` for the flags). Starts one
PostgreSQL server (the embedded one, with the embedded default's settings, or DATABASE_URL's),
then `accord dev` on it with its own data folder, and drives every row with the same load
generator (bench.load): N closed-loop clients, each proposing a new expectation on one contract.

Rows: raw asyncpg (one insert per transaction: the database's limit); the eventsourcing
library alone, stock, and with its database functions (a new aggregate per call, N threads);
the same mutation without event sourcing (bench.plain_mutation: stock strawberry, the same JWT
check, a participant lookup, one insert, answered with the row); Accord's elicitation HTTP
endpoint; Accord's GraphQL `proposeExpectation`. With `--mode distributed` (the default runs
both modes), the same two Accord rows again against the distributed mode (bench.distributed:
the five `accord serve` processes on a real Kafka broker, their own database on the same
server), in the same rounds. Rows are measured in alternating rounds, so a noisy neighbour hits
each alike; a ratio is the median of the rounds' ratios. The goals of issue 13 are printed
beside the figures, PASS or MISS, for each mode; a miss does not fail the process.

`--history` measures instead one client's command latency on contracts that already hold 10,
1,000 (and, with `--history-sizes`, 10,000) events, seeded through the service API.

`--old K=V[,K=V]` starts a second `accord dev` with those settings (on a database of its own on
the same server) and runs its GraphQL row (`old-graphql`) in the same rounds: how an override
of Accord's compares with the stock path its setting keeps (`graphql/old-graphql` among the
reference ratios), e.g. `--old ACCORD_AGGREGATE_CACHE_FASTFORWARD=true`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import psutil

from accord.infra import postgres
from bench import distributed, plain_mutation, raw_http
from bench.downstream_cost import settings_of
from bench.library_store import library_app, save_new
from bench.load import (
    ACCEPTED,
    Figures,
    Outcome,
    Send,
    cpu_seconds,
    drive,
    median,
    postmaster_of,
    server_cpu,
    until_idle,
    verdict,
)
from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.accord_process import RunningAccord, accord_env, free_port, start_accord

# Goals of issue 13.
GOAL_THROUGHPUT = 0.5  # GraphQL vs no event sourcing, commands/s at 16 clients: at least
GOAL_LATENCY = 2.0  # GraphQL vs no event sourcing, median latency with 1 client: at most
GOAL_CONSISTENT = 0.99  # share of GraphQL answers with consistent:true at 16 and 64: at least
GOAL_HISTORY = 1.5  # latency on a contract of 10,000 events vs one of 10: at most

DECISION_MAKERS = [f"dm{n}" for n in range(1, 9)]
GRAPHQL_PROPOSE = """mutation($c: ID!, $t: String!) {
  proposeExpectation(input: {contractId: $c, text: $t, businessArea: "operations",
    whyItMatters: "measured"}) {
    __typename
    ... on ExpectationChanged { consistent version expectation { id text status } }
    ... on Refusal { code message } } }"""
PLAIN_PROPOSE = """mutation($c: ID!, $t: String!) {
  proposeExpectation(input: {contractId: $c, text: $t, businessArea: "operations",
    whyItMatters: "measured"}) { id text status version } }"""
RAW_SCHEMA = "bench_raw"
EMBEDDED, DISTRIBUTED = "embedded", "distributed"
MODES = (EMBEDDED, DISTRIBUTED)
# A second `accord dev` with other settings (--old), beside the embedded one.
OLD = "old"
LIBRARY_SCHEMAS = {False: "bench_library_stock", True: "bench_library_functions"}


@dataclass(frozen=True)
class Target:
    """One Accord under measure: `accord dev`, or the five `accord serve` processes."""

    elicitation: str  # base URL of elicitation's HTTP API
    graphql: str  # URL of the gateway's GraphQL endpoint
    contract: str  # opened on this Accord, with the decision makers
    pids: tuple[int, ...]  # waited on until idle before each measurement


@dataclass
class Stage:
    """What every row runs against: one server, each Accord and its contract, the people."""

    database: str
    plain: str  # base URL of the no-event-sourcing server
    plain_pid: int  # its process
    postmaster: psutil.Process  # the PostgreSQL server every row uses
    contract: str  # the baselines' contract id
    targets: dict[str, Target]  # mode -> Accord
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # person -> headers

    def person(self, n: int) -> str:
        return DECISION_MAKERS[n % len(DECISION_MAKERS)]

    @property
    def pids(self) -> list[int]:
        return [pid for target in self.targets.values() for pid in target.pids]

    def pids_of(self, row: str) -> tuple[int, ...]:
        """The processes of the Accord a row drives, or the no-event-sourcing server's; none
        for the rows that run here."""
        if row == "plain":
            return (self.plain_pid,)
        modes = [mode for mode, rows in MODE_ROWS.items() if row in rows]
        return self.targets[modes[0]].pids if modes and modes[0] in self.targets else ()


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    # Opens what `clients` callers need (pools, threads) and yields the request they send.
    session: Callable[[Stage, int], contextlib.AbstractAsyncContextManager[Send]]


@contextlib.asynccontextmanager
async def raw_session(stage: Stage, clients: int) -> AsyncIterator[Send]:
    pool = await asyncpg.create_pool(stage.database, min_size=clients, max_size=clients)
    assert pool is not None
    contract = stage.contract

    async def send(n: int) -> Outcome:
        await pool.execute(
            f"INSERT INTO {RAW_SCHEMA}.expectations (contract_id, text, business_area,"
            " why_it_matters, proposed_by) VALUES ($1, $2, 'operations', 'measured', $3)",
            contract, f"Proposal {n}", stage.person(n),
        )  # fmt: skip
        return ACCEPTED

    try:
        yield send
    finally:
        await pool.close()


def library_session(db_functions: bool) -> Callable[[Stage, int], Any]:
    @contextlib.asynccontextmanager
    async def session(stage: Stage, clients: int) -> AsyncIterator[Send]:
        schema = LIBRARY_SCHEMAS[db_functions]
        app = await asyncio.to_thread(
            library_app, stage.database, schema, clients, db_functions=db_functions
        )
        threads = ThreadPoolExecutor(clients)
        loop = asyncio.get_running_loop()

        async def send(n: int) -> Outcome:
            text = f"Proposal {n}"
            await loop.run_in_executor(
                threads, save_new, app, stage.contract, text, stage.person(n)
            )
            return ACCEPTED

        try:
            yield send
        finally:
            threads.shutdown()
            await asyncio.to_thread(app.close)

    return session


@contextlib.asynccontextmanager
async def http_client(base_url: str) -> AsyncIterator[raw_http.Client]:
    """The measured rows' HTTP client: bench.raw_http, not httpx, whose own CPU per request
    held the fastest row (no event sourcing) to what the generator could send."""
    http = raw_http.Client(base_url)
    try:
        yield http
    finally:
        await http.close()


@contextlib.asynccontextmanager
async def plain_session(stage: Stage, clients: int) -> AsyncIterator[Send]:
    async with http_client(stage.plain) as http:

        async def send(n: int) -> Outcome:
            body = {
                "query": PLAIN_PROPOSE,
                "variables": {"c": stage.contract, "t": f"Proposal {n}"},
            }
            answer = await http.post("/graphql", body, stage.headers[stage.person(n)])
            found = answer.json() if answer.status == 200 else {}
            if isinstance(found, dict) and (found.get("data") or {}).get("proposeExpectation"):
                return ACCEPTED
            return Outcome(ok=False, problem=f"{answer.status} {answer.body!r}")

        yield send


def accord_http_session(mode: str) -> Callable[[Stage, int], Any]:
    @contextlib.asynccontextmanager
    async def session(stage: Stage, clients: int) -> AsyncIterator[Send]:
        target = stage.targets[mode]
        async with http_client(target.elicitation) as http:
            yield http_send(http, stage, target.contract)

    return session


def http_send(http: raw_http.Client, stage: Stage, contract: str) -> Send:
    """Elicitation's HTTP endpoint; accepted when it answers 200 (once the event is stored)."""
    path = f"/contracts/{contract}/expectations"

    async def send(n: int) -> Outcome:
        body = {
            "text": f"Proposal {n}",
            "business_area": "operations",
            "why_it_matters": "measured",
        }
        answer = await http.post(path, body, stage.headers[stage.person(n)])
        if answer.status == 200:
            return ACCEPTED
        return Outcome(ok=False, problem=f"{answer.status} {answer.body!r}")

    return send


def accord_graphql_session(mode: str) -> Callable[[Stage, int], Any]:
    @contextlib.asynccontextmanager
    async def session(stage: Stage, clients: int) -> AsyncIterator[Send]:
        target = stage.targets[mode]
        async with http_client(target.graphql) as http:

            async def send(n: int) -> Outcome:
                return await propose_graphql(http, stage, target.contract, n)

            yield send

    return session


async def propose_graphql(http: raw_http.Client, stage: Stage, contract: str, n: int) -> Outcome:
    """Accord's `proposeExpectation` (posted to the client's GraphQL URL); accepted when it
    answers ExpectationChanged."""
    body = {"query": GRAPHQL_PROPOSE, "variables": {"c": contract, "t": f"Proposal {n}"}}
    answer = await http.post("", body, stage.headers[stage.person(n)])
    found = answer.json() if answer.status == 200 else {}
    done = ((found.get("data") or {}) if isinstance(found, dict) else {}).get("proposeExpectation")
    if isinstance(done, dict) and done.get("__typename") == "ExpectationChanged":
        return Outcome(ok=True, consistent=bool(done["consistent"]))
    return Outcome(ok=False, problem=f"{answer.status} {answer.body!r}")


ROWS = [
    Row("raw", "raw asyncpg, one insert per transaction", raw_session),
    Row("library", "eventsourcing library, stock", library_session(False)),
    Row("library-functions", "eventsourcing library, DB functions", library_session(True)),
    Row("plain", "no event sourcing (strawberry+asyncpg)", plain_session),
    Row("http", "Accord elicitation HTTP endpoint", accord_http_session(EMBEDDED)),
    Row("graphql", "Accord GraphQL proposeExpectation", accord_graphql_session(EMBEDDED)),
    Row("dist-http", "distributed: elicitation HTTP endpoint", accord_http_session(DISTRIBUTED)),
    Row("dist-graphql", "distributed: GraphQL proposeExpectation", accord_graphql_session(DISTRIBUTED)),
    Row("old-graphql", "--old settings: GraphQL proposeExpectation", accord_graphql_session(OLD)),
]  # fmt: skip
# The rows that need an Accord of a mode; the others run on the server alone.
MODE_ROWS = {
    EMBEDDED: {"http", "graphql"},
    DISTRIBUTED: {"dist-http", "dist-graphql"},
    OLD: {"old-graphql"},
}


# ---------------------------------------------------------------------------------------------
# Setting the stage: one server, `accord dev` on it, a contract, the baselines' tables.


@contextlib.contextmanager
def server(workdir: Path) -> Iterator[str]:
    """DATABASE_URL's server, else the embedded one with the embedded default's settings."""
    with postgres.start(workdir / "postgres", durable=True) as found:
        yield found.url


@contextlib.contextmanager
def accord_dev(
    database: str, data_dir: Path, settings: dict[str, str] | None = None
) -> Iterator[RunningAccord]:
    """`accord dev` on its own data folder, its PostgreSQL the bench's server; `settings`:
    environment variables of its own."""
    env = accord_env(data_dir, **(settings or {}))
    env["DATABASE_URL"] = database
    running = start_accord(None, env)
    try:
        yield running
    finally:
        running.interrupt()


@contextlib.contextmanager
def plain_server(database: str) -> Iterator[tuple[str, int]]:
    """The no-event-sourcing server on `database`: its base URL and process."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.plain_mutation", database, str(port)],
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError("the no-event-sourcing server did not start")
            try:
                httpx.post(f"{url}/graphql", json={"query": "{ health }"}, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def open_contract(elicitation: str, settings: Settings) -> str:
    """A contract through the service API: the account manager, a sponsor, the decision makers."""
    with httpx.Client(base_url=elicitation, timeout=60) as http:

        def post(person: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
            headers = {"authorization": f"Bearer {mint_token(settings, person)}"}
            response = http.post(path, json=body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(
                    f"POST {path} as {person}: {response.status_code} {response.text}"
                )
            answer: dict[str, Any] = response.json()
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
    return contract


async def prepare_tables(database: str, contract: str) -> None:
    """Fresh tables for the baselines; the no-event-sourcing server knows the same people."""
    connection = await asyncpg.connect(database)
    try:
        await connection.execute(plain_mutation.SCHEMA_SQL)
        await connection.execute(
            plain_mutation.SCHEMA_SQL.replace(plain_mutation.SCHEMA, RAW_SCHEMA)
        )
        await connection.executemany(
            f"INSERT INTO {plain_mutation.SCHEMA}.participants VALUES ($1, $2, 'client_decision_maker')",
            [(contract, person) for person in DECISION_MAKERS],
        )  # fmt: skip
        for schema in LIBRARY_SCHEMAS.values():
            await connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await connection.execute(f"CREATE SCHEMA {schema}")
    finally:
        await connection.close()


# ---------------------------------------------------------------------------------------------
# Measuring.


@dataclass
class Results:
    """Per client count and row: every round's figures."""

    rounds: dict[tuple[int, str], list[Figures]] = field(default_factory=dict)

    def of(self, clients: int, key: str) -> list[Figures]:
        return self.rounds.get((clients, key), [])

    def pooled(self, clients: int, key: str) -> Figures:
        total = Figures()
        for figures in self.of(clients, key):
            total.add(figures)
        return total

    def rate(self, clients: int, key: str) -> float:
        return median([f.rate for f in self.of(clients, key)])

    def ratios(
        self, clients: int, key: str, baseline: str, measure: Callable[[Figures], float]
    ) -> list[float]:
        """Round by round: measure(row) / measure(baseline), where both were measured."""
        pairs = zip(self.of(clients, key), self.of(clients, baseline), strict=False)
        return [measure(a) / measure(b) for a, b in pairs if measure(b) > 0]


async def measure(
    stage: Stage, rows: list[Row], counts: list[int], rounds: int, seconds: float, warmup: float
) -> Results:
    results = Results()
    for clients in counts:
        print(f"\n{clients} client(s): {rounds} round(s) of {seconds:g} s per row", flush=True)
        for n in range(rounds):
            # Alternate the order too, so no row always runs after the same neighbour.
            for row in rows if n % 2 == 0 else rows[::-1]:
                waited = await until_idle(stage.pids)
                if waited > 5:
                    print(f"  (waited {waited:.0f} s for Accord to finish its work)")
                served = stage.pids_of(row.key)
                async with row.session(stage, clients) as send:
                    await drive(send, clients, seconds=warmup)
                    before = cpu_seconds(served)
                    database_before = server_cpu(stage.postmaster)
                    figures = await drive(send, clients, seconds=seconds)
                if served:
                    await until_idle(served)
                    figures.served_cpu_seconds = cpu_seconds(served) - before
                figures.database_cpu_seconds = server_cpu(stage.postmaster) - database_before
                results.rounds.setdefault((clients, row.key), []).append(figures)
                served_by = "server" if row.key == "plain" else "Accord"
                print(f"  round {n + 1} {row.label:42} {line(figures, served_by)}", flush=True)
    return results


def line(figures: Figures, served: str = "Accord") -> str:
    """A row's figures; `served` names the processes it drove (their CPU per command)."""
    text = (
        f"{figures.rate:8.1f}/s  p50 {figures.percentile(0.5) * 1000:8.1f} ms"
        f"  p99 {figures.percentile(0.99) * 1000:8.1f} ms"
    )
    if figures.accepted:
        # The load generator's own CPU (for the raw and library rows, the work itself runs here).
        text += f"  here {figures.cpu_seconds / figures.accepted * 1000:5.2f} ms CPU/cmd"
        if figures.served_cpu_seconds:
            # The server's processes (Accord's, or the no-event-sourcing one), the work after
            # each answer included, until idle again; then the PostgreSQL server's.
            per = figures.served_cpu_seconds / figures.accepted * 1000
            text += f"  {served} {per:5.2f} ms CPU/cmd"
        if figures.database_cpu_seconds:
            per = figures.database_cpu_seconds / figures.accepted * 1000
            text += f"  PostgreSQL {per:5.2f} ms"
    if figures.refused:
        text += f"  refused {figures.refused}"
    if (share := figures.consistent_share) is not None:
        text += f"  consistent {share:6.1%}"
    return text


def report(results: Results, rows: list[Row], counts: list[int]) -> None:
    keys = {row.key for row in rows}
    for clients in counts:
        print(
            f"\n== {clients} client(s): median commands/s of the rounds; latencies of every answer"
        )
        for row in rows:
            pooled = results.pooled(clients, row.key)
            print(
                f"  {row.label:42} {results.rate(clients, row.key):8.1f}/s"
                f"  p50 {pooled.percentile(0.5) * 1000:8.1f} ms  p99 {pooled.percentile(0.99) * 1000:8.1f} ms"
                + (f"  refused {pooled.refused}" if pooled.refused else "")
                + (f"  consistent {s:6.1%}" if (s := pooled.consistent_share) is not None else "")
            )  # fmt: skip
            for problem in pooled.problems:
                print(f"      e.g. {problem}")
    print("\n== goals (issue 13; they name the embedded default, the distributed mode beside it)")
    for key, mode in (("graphql", EMBEDDED), ("dist-graphql", DISTRIBUTED)):
        if key not in keys:
            continue
        if "plain" in keys and 16 in counts:
            ratio = median(results.ratios(16, key, "plain", lambda f: f.rate))
            print(f"  {mode:11} GraphQL/no-ES commands/s, 16 clients   : {ratio:6.2f}x"
                  f"  goal >= {GOAL_THROUGHPUT}x  {verdict(ratio >= GOAL_THROUGHPUT)}")  # fmt: skip
        if "plain" in keys and 1 in counts:
            ratio = median(results.ratios(1, key, "plain", lambda f: f.percentile(0.5)))
            print(f"  {mode:11} GraphQL/no-ES median latency, 1 client : {ratio:6.2f}x"
                  f"  goal <= {GOAL_LATENCY}x  {verdict(ratio <= GOAL_LATENCY)}")  # fmt: skip
        for clients in (c for c in counts if c in (16, 64)):
            share = results.pooled(clients, key).consistent_share or 0.0
            print(f"  {mode:11} consistent:true, {clients:2} clients           : {share:6.1%}"
                  f"  goal >= {GOAL_CONSISTENT:.0%}   {verdict(share >= GOAL_CONSISTENT)}")  # fmt: skip
    if "plain" in keys and 16 in counts:
        ceilings(results, [k for k in ("graphql", "dist-graphql") if k in keys])
    print("\n== for reference (median of the rounds' ratios)")
    pairs = [("http", "plain"), ("graphql", "http"), ("plain", "raw"), ("library", "raw"),
             ("library-functions", "raw"), ("library-functions", "library"),
             ("dist-http", "http"), ("dist-graphql", "graphql"), ("dist-graphql", "plain"),
             ("graphql", "old-graphql")]  # fmt: skip
    labels = {row.key: row.key for row in rows}
    for clients in counts:
        shown = [
            f"{labels[a]}/{labels[b]} {median(results.ratios(clients, a, b, lambda f: f.rate)):.2f}x"
            for a, b in pairs
            if {a, b} <= keys
        ]
        if shown:
            print(f"  commands/s, {clients:2} client(s): " + ", ".join(shown))


def cpu_per_command(figures: Figures) -> tuple[float, float, float]:
    """Seconds of CPU per accepted command: the load generator's, the server's (Accord's or the
    no-event-sourcing one's), the PostgreSQL server's."""
    if not figures.accepted:
        return 0.0, 0.0, 0.0
    spent = (figures.cpu_seconds, figures.served_cpu_seconds, figures.database_cpu_seconds)
    return spent[0] / figures.accepted, spent[1] / figures.accepted, spent[2] / figures.accepted


def ceilings(results: Results, keys: list[str], clients: int = 16) -> None:
    """What the machine's cores allow each row at most: its CPU per command (the generator,
    the server and PostgreSQL, all on this machine) against every core busy, as a ratio to the
    no-event-sourcing row's measured rate; and the CPU per command the throughput goal allows.
    A row that is not CPU-bound everywhere (one interpreter at a core, a lock) is below it."""
    cores = os.cpu_count() or 1
    plain_rate = results.rate(clients, "plain")
    allowed = cores / (GOAL_THROUGHPUT * plain_rate) if plain_rate else 0.0
    print(f"\n== what {cores} cores allow, {clients} clients (CPU per command: the generator,"
          " the server, PostgreSQL; medians of the rounds)")  # fmt: skip
    for key in ["plain", *keys]:
        spent = [cpu_per_command(f) for f in results.of(clients, key)]
        here, served, database = (median([s[i] for s in spent]) for i in range(3))
        total = here + served + database
        if not total:
            continue
        ceiling = cores / total
        print(f"  {key:13} {here * 1000:5.2f} + {served * 1000:5.2f} + {database * 1000:5.2f}"
              f" = {total * 1000:5.2f} ms: at most {ceiling:8.1f}/s"
              f" ({ceiling / plain_rate:5.2f}x the no-ES rate measured)")  # fmt: skip
    print(f"  the {GOAL_THROUGHPUT}x goal allows {allowed * 1000:.2f} ms of CPU per command on"
          f" {cores} cores, all three together")  # fmt: skip


# ---------------------------------------------------------------------------------------------
# History: does a command cost more on an older contract?


async def seed(stage: Stage, target: Target, contract: str, events: int) -> int:
    """Grow the contract's history until `events` events are stored about it: a question asked
    (an aggregate of its own) and a delivery lead joining and leaving again (two events on the
    contract's own stream), over and over; answers the events stored."""
    async with httpx.AsyncClient(timeout=60) as http:
        headers = stage.headers["am"]
        base = f"{target.elicitation}/contracts/{contract}"
        stored = int((await http.get(base, headers=headers)).json()["version"])
        started, last_said, n = time.monotonic(), time.monotonic(), 0
        steps = [
            ("questions", lambda n: {"asked_of": "dm1", "business_area": "operations",
                                     "text": f"Question {n}?"}),
            ("participants", lambda n: {"person_id": "seed-lead", "name": "Seed Lead",
                                        "role": "provider_delivery_lead"}),
            ("participants/leave", lambda n: {"person_id": "seed-lead", "reason": f"round {n}"}),
        ]  # fmt: skip
        while stored < events:
            path, body = steps[n % len(steps)]
            response = await http.post(
                f"{base}/{path}", content=orjson.dumps(body(n)), headers=headers
            )
            if response.status_code != 200:
                raise RuntimeError(f"seeding: {response.status_code} {response.text}")
            stored += len(response.json()["positions"])
            n += 1
            if time.monotonic() - last_said > 30:
                last_said = time.monotonic()
                print(
                    f"  seeding: {stored}/{events} events after {last_said - started:.0f} s",
                    flush=True,
                )
        return stored


async def history(
    stage: Stage, settings: Settings, sizes: list[int], rounds: int, requests: int
) -> None:
    target = next(iter(stage.targets.values()))
    print(f"\n== history: one client, contracts of {', '.join(map(str, sizes))} events", flush=True)
    contracts = [
        await asyncio.to_thread(open_contract, target.elicitation, settings) for _ in sizes
    ]
    started = time.monotonic()
    held = await asyncio.gather(
        *(seed(stage, target, c, size) for c, size in zip(contracts, sizes, strict=True))
    )
    print(
        f"  seeded in {time.monotonic() - started:.0f} s: contracts hold {', '.join(map(str, held))} events"
    )
    figures: dict[tuple[str, int], list[Figures]] = {}
    async with (
        http_client(target.graphql) as graphql,
        http_client(target.elicitation) as elicitation,
    ):
        for n in range(rounds):
            for contract, size in zip(contracts, sizes, strict=True):
                for kind in ("graphql", "http"):
                    send = (
                        functools.partial(propose_graphql, graphql, stage, contract)
                        if kind == "graphql"
                        else http_send(elicitation, stage, contract)
                    )
                    got = await drive(send, 1, requests=requests)
                    figures.setdefault((kind, size), []).append(got)
            print(f"  round {n + 1} done", flush=True)
    for kind, label in (
        ("graphql", "GraphQL proposeExpectation"),
        ("http", "elicitation HTTP endpoint"),
    ):
        print(f"  {label}:")
        for size, events in zip(sizes, held, strict=True):
            pooled = Figures()
            for f in figures[(kind, size)]:
                pooled.add(f)
            print(f"    contract of {events:6} events: p50 {pooled.percentile(0.5) * 1000:8.1f} ms"
                  f"  p99 {pooled.percentile(0.99) * 1000:8.1f} ms  ({pooled.accepted} commands)")  # fmt: skip
    smallest, largest = sizes[0], sizes[-1]
    ratio = median([b.percentile(0.5) / a.percentile(0.5)
                    for a, b in zip(figures[("graphql", smallest)], figures[("graphql", largest)], strict=True)])  # fmt: skip
    http_ratio = median([b.percentile(0.5) / a.percentile(0.5)
                         for a, b in zip(figures[("http", smallest)], figures[("http", largest)], strict=True)])  # fmt: skip
    print(
        f"  HTTP endpoint median latency, {largest} vs {smallest} events: {http_ratio:.2f}x (for reference)"
    )
    note = (
        ""
        if largest >= 10_000
        else "  (the goal names 10,000 events: run --history-sizes 10,1000,10000)"
    )
    print(f"  GraphQL median latency, {largest} vs {smallest} events: {ratio:.2f}x"
          f"  goal <= {GOAL_HISTORY}x  {verdict(ratio <= GOAL_HISTORY)}{note}")  # fmt: skip


# ---------------------------------------------------------------------------------------------


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.command_throughput", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument(
        "--clients", default="16,64,1", help="client counts, comma-separated (default 16,64,1)"
    )
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="length of one measurement (default 3)"
    )
    parser.add_argument(
        "--warmup", type=float, default=0.5, help="seconds of warm-up before each measurement"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds per client count (default 3)"
    )
    parser.add_argument(
        "--mode",
        default=",".join(MODES),
        help="which Accord to measure: embedded (`accord dev`), distributed (the five"
        " `accord serve` processes on Kafka), or both (the default)",
    )
    parser.add_argument("--rows", default=",".join(r.key for r in ROWS),
                        help=f"rows to run (default all): {', '.join(r.key for r in ROWS)}")  # fmt: skip
    parser.add_argument(
        "--history", action="store_true", help="measure latency against contract history instead"
    )
    parser.add_argument("--old", type=settings_of, default=None, metavar="K=V[,K=V]",
                        help="also run a second `accord dev` with these settings (row old-graphql)")  # fmt: skip
    parser.add_argument(
        "--history-sizes",
        default="10,1000",
        help="events per contract (default 10,1000; the goal names 10,000)",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=20,
        help="history mode: commands per contract per round (default 20)",
    )
    options = parser.parse_args(argv)
    unknown = set(options.rows.split(",")) - {r.key for r in ROWS}
    if unknown:
        parser.error(f"unknown rows: {', '.join(sorted(unknown))}")
    options.modes = [m for m in MODES if m in options.mode.split(",")]
    if not options.modes or set(options.mode.split(",")) - set(MODES):
        parser.error(f"--mode is {' or '.join(MODES)}, or both comma-separated")
    if options.history and EMBEDDED not in options.modes:
        parser.error("--history measures the embedded default: --mode embedded")
    if options.history:
        options.modes = [EMBEDDED]
    return options


def embedded_target(running: RunningAccord) -> Target:
    base = running.url.removesuffix("/graphql")
    contract = open_contract(f"{base}/elicitation", Settings())
    return Target(f"{base}/elicitation", running.url, contract, (running.process.pid,))


def distributed_target(running: distributed.Stack) -> Target:
    contract = open_contract(running.elicitation, Settings())
    return Target(running.elicitation, running.graphql, contract, running.pids)


async def run(
    options: argparse.Namespace,
    database: str,
    targets: dict[str, Target],
    plain: tuple[str, int],
) -> None:
    settings = Settings()
    contract = next(iter(targets.values())).contract
    await prepare_tables(database, contract)
    stage = Stage(database, *plain, await postmaster_of(database), contract, targets)
    for person in [*DECISION_MAKERS, "am"]:
        token = mint_token(settings, person)
        stage.headers[person] = {
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
        }
    if options.history:
        sizes = sorted(int(s) for s in options.history_sizes.split(","))
        await history(stage, settings, sizes, options.rounds, options.requests)
        return
    wanted = set(options.rows.split(","))
    for mode in (*MODES, OLD):
        if mode not in targets:
            wanted -= MODE_ROWS[mode]
    rows = [row for row in ROWS if row.key in wanted]
    counts = [int(c) for c in options.clients.split(",")]
    results = await measure(stage, rows, counts, options.rounds, options.seconds, options.warmup)
    report(results, rows, counts)


def main(argv: list[str] | None = None) -> None:
    options = arguments(argv)
    where = (
        "DATABASE_URL" if os.environ.get("DATABASE_URL") else "an embedded PostgreSQL (fsync on)"
    )
    said = {
        EMBEDDED: "`accord dev` as a subprocess on it (in-process bus)",
        DISTRIBUTED: "the five `accord serve` processes on Kafka, their own database on it",
    }
    print(f"server: {where}; {'; '.join(said[m] for m in options.modes)}; {os.cpu_count()} CPUs")
    with (
        tempfile.TemporaryDirectory(prefix="accord-bench-") as scratch,
        server(Path(scratch)) as database,
        contextlib.ExitStack() as running,
    ):
        targets: dict[str, Target] = {}
        if EMBEDDED in options.modes:
            dev = running.enter_context(accord_dev(database, Path(scratch) / "accord"))
            targets[EMBEDDED] = embedded_target(dev)
        if DISTRIBUTED in options.modes:
            started = time.monotonic()
            stack = running.enter_context(distributed.stack(database, Path(scratch) / "stack"))
            print(f"distributed: started in {time.monotonic() - started:.0f} s, Kafka at"
                  f" {stack.bootstrap}, logs in {stack.logs}", flush=True)  # fmt: skip
            targets[DISTRIBUTED] = distributed_target(stack)
        if options.old:
            print(f"old: a second `accord dev` with {options.old}", flush=True)
            own = distributed.own_database(database, "bench_old")
            old = running.enter_context(accord_dev(own, Path(scratch) / "old", options.old))
            targets[OLD] = embedded_target(old)
        plain = running.enter_context(plain_server(database))
        asyncio.run(run(options, database, targets, plain))


if __name__ == "__main__":
    main()
