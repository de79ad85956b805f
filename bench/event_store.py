"""Accord's event store against the eventsourcing library's own, saving a new aggregate per call.

Run: `.venv/bin/python -m bench.event_store [--seconds 3] [--rounds 5] [--threads 16]`. Starts
an embedded PostgreSQL (or uses DATABASE_URL) and measures, on that one server and in turns so a
noisy neighbour hits each alike, saves per second by `--threads` threads, each saving a new
aggregate per call through an eventsourcing Application:

- Accord's recorder (shared/recorder.py, ACCORD_EVENT_STORE=accord);
- the library's recorder with POSTGRES_ENABLE_DB_FUNCTIONS=y (the library at its best);
- the library's stock recorder (ACCORD_EVENT_STORE=stock);
- beside them, raw asyncpg: as many connections, one INSERT of a like row per transaction (the
  database's limit for this shape, no event sourcing at all).

Prints each path's median saves/s and the median of the per-round ratios against the library
with its DB functions (the goal: Accord's store at least 1.0x).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from uuid import uuid4

import asyncpg

from shared.eventstore import PERSISTENCE_MODULES, ensure_schema
from shared.provenance import acting_as
from shared.settings import postgres_env
from tests.support.notes import Notes

RAW_TABLE = "raw_events"
GOAL = 1.0


def notes_app(database_url: str, schema: str, module: str, threads: int, **extra: str) -> Notes:
    """An Application on its own schema; every path gets a connection per thread."""
    ensure_schema(database_url, schema)
    env = postgres_env(database_url, schema=schema)
    env |= {"PERSISTENCE_MODULE": module, "POSTGRES_POOL_SIZE": str(threads), **extra}
    return Notes(env=env)


def saves_per_second(app: Notes, threads: int, seconds: float) -> float:
    """Each thread saves a new aggregate per call until the time is up."""
    with acting_as("bench", "decision_maker"):
        app.write(uuid4(), "warm-up")
    started = time.monotonic()
    until = started + seconds

    def worker(number: int) -> int:
        saved = 0
        with acting_as(f"bench-{number}", "decision_maker"):
            while time.monotonic() < until:
                app.write(uuid4(), "Response time under two hours")
                saved += 1
        return saved

    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(worker, range(threads)))
    return total / (time.monotonic() - started)


async def raw_inserts_per_second(database_url: str, connections: int, seconds: float) -> float:
    """One INSERT per transaction of a row shaped like a stored event, on many connections."""
    state = (
        b'{"text":"Response time under two hours","contract_id":"' + uuid4().hex.encode() + b'"}'
    )
    pool = await asyncpg.create_pool(database_url, min_size=connections, max_size=connections)
    await pool.execute(
        f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (originator_id uuid, originator_version bigint,"
        " topic text, state bytea, notification_id bigserial UNIQUE,"
        " PRIMARY KEY (originator_id, originator_version))"
    )
    until = time.monotonic() + seconds
    started = time.monotonic()

    async def worker() -> int:
        saved = 0
        async with pool.acquire() as conn:
            insert = await conn.prepare(
                f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state)"
                " VALUES ($1, 1, 'tests.support.notes:Note.Created', $2) RETURNING notification_id"
            )
            while time.monotonic() < until:
                await insert.fetchval(uuid4(), state)
                saved += 1
        return saved

    total = sum(await asyncio.gather(*(worker() for _ in range(connections))))
    elapsed = time.monotonic() - started
    await pool.close()
    return total / elapsed


def run(database_url: str, threads: int, seconds: float, rounds: int) -> None:
    stamp = uuid4().hex[:8]
    apps = {
        "Accord's store": notes_app(
            database_url, f"bench_accord_{stamp}", PERSISTENCE_MODULES["accord"], threads
        ),
        "library, DB functions": notes_app(
            database_url,
            f"bench_dbfn_{stamp}",
            PERSISTENCE_MODULES["stock"],
            threads,
            POSTGRES_ENABLE_DB_FUNCTIONS="y",
        ),
        "library, stock": notes_app(
            database_url, f"bench_stock_{stamp}", PERSISTENCE_MODULES["stock"], threads
        ),
    }
    paths: dict[str, Callable[[], float]] = {
        name: (lambda app=app: saves_per_second(app, threads, seconds))  # type: ignore[misc]
        for name, app in apps.items()
    }
    paths["raw asyncpg"] = lambda: asyncio.run(
        raw_inserts_per_second(database_url, threads, seconds)
    )
    figures: dict[str, list[float]] = {name: [] for name in paths}
    names = list(paths)
    for number in range(1, rounds + 1):
        # Each round starts with the next path: none always follows the heavy raw inserts.
        shift = (number - 1) % len(names)
        for name in names[shift:] + names[:shift]:
            figures[name].append(paths[name]())
        line = ", ".join(f"{name} {values[-1]:,.0f}/s" for name, values in figures.items())
        print(f"round {number}: {line}", flush=True)
    baseline = figures["library, DB functions"]
    print(f"\n{threads} threads, a new aggregate per save, {rounds} rounds of {seconds:g} s:")
    print(f"{'path':<24}{'saves/s (median)':>18}{'x library, DB functions':>26}")
    for name, values in figures.items():
        ratio = statistics.median(v / b for v, b in zip(values, baseline, strict=True))
        print(f"{name:<24}{statistics.median(values):>18,.0f}{ratio:>25.2f}x")
    accord = statistics.median(
        a / b for a, b in zip(figures["Accord's store"], baseline, strict=True)
    )
    verdict = "met" if accord >= GOAL else "NOT met"
    print(
        f"\nthe store alone: Accord {accord:.2f}x the library at its best (goal >= {GOAL}x): {verdict}"
    )
    for app in apps.values():
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with ExitStack() as stack:
        database_url = os.environ.get("DATABASE_URL", "")
        if not database_url:
            from accord.infra import postgres

            workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="accord-bench-"))
            database_url = stack.enter_context(postgres.start(Path(workdir))).url
        run(database_url, args.threads, args.seconds, args.rounds)


if __name__ == "__main__":
    main()
