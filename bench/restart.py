"""`accord dev` started again on a long history: how soon a command answers `consistent: true`,
with the relays publishing again from their marks against publishing their whole logs.

Run: `.venv/bin/python -m bench.restart [--events 50000] [--data DIR] [--rounds 2]`. Makes a
data folder as `bench.replay --data` does (or reuses DIR's events), then starts `accord dev`
on it once until every consumer has caught up (`/readyz` with no lag allowed), so that the
services' views stand where a long-running deployment's would and the relays have marked
their way. Then R rounds, each starting it twice and stopping it with Ctrl-C: with
ACCORD_RELAY_MARK_EVERY=0 (every relay publishes its whole log again, the way before marks)
and with the default (from the last mark before every consumer). Each start prints the
seconds until GraphQL answers, until the first command (a proposal on a contract opened
then) answers `consistent: true`, and until every consumer has caught up, and the CPU seconds
`accord dev` used by then; then the medians and the ratio whole/marks.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from accord.database import database
from bench.replay import copy_events, demo_template
from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.accord_process import accord_env, start_accord

OPEN = """mutation { openContract(input: {clientOrganisation: "Fabrikam", providerOrganisation:
"Contoso", title: "Restart", startsOn: "2027-01-01", name: "Chris",
role: CLIENT_DECISION_MAKER}) { __typename ... on ContractChanged { created } } }"""
PROPOSE = """mutation($c: ID!, $t: String!) { proposeExpectation(input: {contractId: $c, text: $t,
businessArea: "Service desk"}) { __typename ... on ExpectationChanged { consistent } } }"""


@dataclass
class Start:
    answering: float
    consistent: float
    caught_up: float
    cpu: float

    def line(self, way: str) -> str:
        return (
            f"{way:<8} GraphQL after {self.answering:5.1f} s, consistent after"
            f" {self.consistent:5.1f} s, caught up after {self.caught_up:5.1f} s"
            f" (CPU {self.cpu:5.1f} s)"
        )


def started(data: Path, settings: dict[str, str]) -> Start:
    """One start on `data`: the seconds to each milestone, then Ctrl-C."""
    env = accord_env(data, ACCORD_READY_MAX_LAG="0", **settings)
    began = time.monotonic()
    running = start_accord(None, env)
    answering = time.monotonic() - began
    try:
        process = psutil.Process(running.process.pid)
        headers = {"authorization": f"Bearer {mint_token(Settings(), 'cfo')}"}
        with httpx.Client(base_url=running.url.removesuffix("/graphql"), timeout=60) as http:

            def ask(query: str, **variables: Any) -> dict[str, Any]:
                body = {"query": query, "variables": variables}
                answer = http.post("/graphql", json=body, headers=headers).json()
                return dict(answer["data"])

            contract = ask(OPEN)["openContract"]["created"]
            n = 0
            while not ask(PROPOSE, c=contract, t=f"After a restart {n}")["proposeExpectation"][
                "consistent"
            ]:
                n += 1
            consistent = time.monotonic() - began
            while http.get("/readyz").status_code != 200:
                time.sleep(0.2)
            caught_up = time.monotonic() - began
            times = process.cpu_times()
        return Start(answering, consistent, caught_up, times.user + times.system)
    finally:
        running.interrupt()


def seed(data: Path, events: int) -> None:
    """A data folder holding about `events` stored events (bench.replay's generator)."""
    if (data / "postgres").exists():
        return
    demo_template(data)
    with database(Settings(data_dir=data, database_url="", kafka_bootstrap="")) as settings:
        print(f"generated {copy_events(settings, events):,} events")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data", type=Path, help="a data folder to make, or reuse the events of")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        data = args.data or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        seed(data, args.events)
        print(started(data, {}).line("warm-up"))
        ways = {"whole": {"ACCORD_RELAY_MARK_EVERY": "0"}, "marks": {}}
        runs: dict[str, list[Start]] = {way: [] for way in ways}
        for _ in range(args.rounds):
            for way, settings in ways.items():
                runs[way].append(started(data, settings))
                print(runs[way][-1].line(way), flush=True)
        median = {way: statistics.median(s.consistent for s in runs[way]) for way in ways}
        print(
            f"first consistent command after a restart: whole logs {median['whole']:.1f} s,"
            f" from marks {median['marks']:.1f} s; ratio whole/marks"
            f" {median['whole'] / median['marks']:.1f}x"
        )


if __name__ == "__main__":
    main()
