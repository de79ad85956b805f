"""Replay: every read model rebuilt from the services' event stores, in events/s, beside an
asyncpg cursor reading the same stored rows (the database's limit for this shape).

Run: `.venv/bin/python -m bench.replay [--events 1000000] [--data DIR]`. Starts `accord dev`
on a scratch data folder (or DIR, kept, whose events a later run reuses) and loads `accord demo` through its public API (a contract through every service:
elicitation, ranking, notifications); stops it; then copies those stored events, every id
made new per copy, through each service's own recorder until the stores hold N events; then
times an asyncpg cursor over the rows and `rebuild(settings, "store")`, the code `accord replay
--source store` runs. With ACCORD_KAFKA_BOOTSTRAP set, the same events are published to the
topics and replayed from Kafka as well. Prints events/s, the ratio to the cursor read (the
best of three reads, before and after), the CPU seconds of this process (with the processes
the rebuild starts) and of the PostgreSQL server (when it runs on this machine: a busy host
disturbs CPU less than time), and the goal
(17,000 events/s) with PASS or MISS. `--stock` also rebuilds the paths Accord's overrides
replaced and prints each against Accord's: ACCORD_PROJECTION_BATCHED off (each event on its
own), ACCORD_REPLAY_DECODE=stock (stored events decoded by the library's transcoder),
ACCORD_PROJECTION_COPY_ROWS=0 (the audit log's rows inserted, not copied),
ACCORD_GC_THRESHOLD=0 (CPython's collector thresholds: shared/collector.py),
ACCORD_REPLAY_RUNNERS=1 (each batch applied by one runner, not split by contract) and
ACCORD_REPLAY_PROCESSES=1 (what is stored loaded by this process alone); `--rounds R`
alternates R rebuilds of each and takes the median; `--profile FILE` writes a cProfile of the
first store rebuild. --data needs the embedded server, so no DATABASE_URL: for the Kafka
replay beside it give ACCORD_KAFKA_BOOTSTRAP alone (`accord infra kafka` prints one).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import psutil
from eventsourcing.application import Application
from eventsourcing.persistence import Notification, StoredEvent

from accord.database import database
from accord.infra import postgres
from bench.downstream_cost import postmaster_pid, server_cpu
from services.elicitation.application import Elicitation
from services.gateway.replay import rebuild
from services.gateway.store_feed import STORE_SERVICES
from services.gateway.stored_events import stored_envelope
from services.notifications.application import Notifications
from services.ranking.application import Prioritizations
from shared import collector
from shared.bus_kafka import KafkaPublisher
from shared.eventstore import build_application
from shared.schemas.registry import topic_for
from shared.settings import Settings
from tests.e2e.accord_process import accord_dev

GOAL = 17_000  # events/s: 1,000,000 events in under a minute on a 2-core machine
APPLICATIONS: dict[str, type[Application[UUID]]] = {
    "elicitation": Elicitation,
    "ranking": Prioritizations,
    "notifications": Notifications,
}
# A UUID as the stored JSON holds it: hex (the library's transcoding) or with dashes (data).
_UUID = re.compile(
    rb"(?<![0-9a-f])(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})"
    rb"(?![0-9a-f])"
)
# Stored events written per recorder call while copying.
_INSERT_CHUNK = 5_000


def demo_template(data: Path) -> None:
    """`accord dev` with `accord demo` loaded through its API, then stopped: the template."""
    with accord_dev(data) as (url, _database):
        subprocess.run(
            [sys.executable, "-m", "accord", "demo", "--url", url.removesuffix("/graphql")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        time.sleep(2.0)  # the notification workers plan and deliver what the demo caused


def _ids_in(notifications: Sequence[Notification]) -> set[bytes]:
    """Every id in the template: the aggregates' and any UUID their events name."""
    found: set[bytes] = set()
    for n in notifications:
        found.add(UUID(str(n.originator_id)).hex.encode())
        for match in _UUID.findall(n.state):
            try:
                found.add(UUID(match.decode()).hex.encode())
            except ValueError:
                continue
    return found


def copy_events(settings: Settings, events: int) -> int:
    """Copy the template's stored events until the stores hold about `events`; how many."""
    apps = {s: build_application(cls, s, settings) for s, cls in APPLICATIONS.items()}
    try:
        template = {s: app.recorder.select_notifications(1, 1_000_000) for s, app in apps.items()}
        size = sum(len(t) for t in template.values())
        copies = max(1, round((events - size) / size))
        ids = _ids_in([n for t in template.values() for n in t])
        pending: dict[str, list[StoredEvent]] = {s: [] for s in apps}
        for _ in range(copies):
            new = {old: uuid4().hex.encode() for old in ids}
            # Dashed forms too: the published data carries ids as text.
            mapping = {**new, **{_dashed(o): _dashed(n) for o, n in new.items()}}

            def swap(match: re.Match[bytes], mapping: dict[bytes, bytes] = mapping) -> bytes:
                return mapping.get(match[0], match[0])

            for service, notifications in template.items():
                for n in notifications:
                    pending[service].append(
                        StoredEvent(
                            originator_id=UUID(
                                mapping[UUID(str(n.originator_id)).hex.encode()].decode()
                            ),
                            originator_version=n.originator_version,
                            topic=n.topic,
                            state=_UUID.sub(swap, n.state),
                        )
                    )
                if len(pending[service]) >= _INSERT_CHUNK:
                    apps[service].recorder.insert_events(pending[service])
                    pending[service] = []
        for service, stored in pending.items():
            if stored:
                apps[service].recorder.insert_events(stored)
        return size * (copies + 1)
    finally:
        for app in apps.values():
            app.close()


def _dashed(hex_id: bytes) -> bytes:
    return str(UUID(hex_id.decode())).encode()


async def cursor_read(database_url: str) -> tuple[int, float]:
    """Every stored event of every service through one asyncpg cursor: rows and seconds."""
    conn = await asyncpg.connect(database_url)
    try:
        rows, started = 0, time.perf_counter()
        for service in STORE_SERVICES:
            async with conn.transaction():
                async for _ in conn.cursor(
                    "SELECT notification_id, originator_id, originator_version, topic, state"
                    f' FROM "{service}"."{service}_events" ORDER BY notification_id',
                    prefetch=10_000,
                ):
                    rows += 1
        return rows, time.perf_counter() - started
    finally:
        await conn.close()


async def publish_to_kafka(settings: Settings) -> int:
    """Every stored event to its service's topic, as the relay would publish it."""
    conn = await asyncpg.connect(settings.database_url)
    publisher = KafkaPublisher(settings.kafka_bootstrap, "bench-replay")
    await publisher.start()
    published = 0
    try:
        for service in STORE_SERVICES:
            rows = await conn.fetch(
                "SELECT originator_id, originator_version, topic, state"
                f' FROM "{service}"."{service}_events" ORDER BY notification_id'
            )
            envelopes = [
                stored_envelope(
                    service, r["originator_id"], r["originator_version"], r["topic"], r["state"]
                )
                for r in rows
            ]
            for start in range(0, len(envelopes), 5_000):
                await publisher.publish(topic_for(service), envelopes[start : start + 5_000])
            published += len(envelopes)
        return published
    finally:
        await publisher.stop()
        await conn.close()


@dataclass(frozen=True)
class Rebuilt:
    applied: int  # events
    seconds: float
    cpu: float  # CPU seconds of this process and the processes the rebuild started
    server_cpu: float  # CPU seconds of the PostgreSQL server (0 when it is not on this machine)

    @property
    def rate(self) -> float:
        return _rate(self.applied, self.seconds)

    def line(self) -> str:
        server = f", the server {self.server_cpu:.1f}" if self.server_cpu else ""
        return (
            f"{self.rate:>10,.0f} events/s ({self.seconds:.1f} s, {self.applied:,} applied;"
            f" CPU s: this process and its children {self.cpu:.1f}{server})"
        )


async def timed_rebuild(settings: Settings, source: Any, profile: str = "") -> Rebuilt:
    """`accord replay --source <source>`'s rebuild, timed, the collector set as it sets it."""
    collector.tune(settings.gc_threshold)
    postmaster = await _postmaster(settings.database_url)
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), _own_cpu()
    server = server_cpu(postmaster) if postmaster else 0.0
    if profiler:
        profiler.enable()
    applied = await rebuild(settings, source, lambda done, total: None)
    seconds, cpu = time.perf_counter() - started, _own_cpu() - cpu
    server = server_cpu(postmaster) - server if postmaster else 0.0
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return Rebuilt(applied, seconds, cpu, server)


def _own_cpu() -> float:
    """CPU seconds of this process and of the children it waited for (the rebuild's loading
    processes)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


async def _postmaster(database_url: str) -> psutil.Process | None:
    """The PostgreSQL server's process if it runs on this machine."""
    with contextlib.suppress(RuntimeError, psutil.Error):
        return psutil.Process(await postmaster_pid(database_url))
    return None


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else 0.0


# `--stock`: the paths each override of the rebuild replaced, by the settings that take them.
STOCK = {
    "one by one": {"projection_batched": False},
    "the library's decode": {"replay_decode": "stock"},
    "inserts, not COPY": {"projection_copy_rows": 0},
    "CPython's GC thresholds": {"gc_threshold": 0},
    "one runner": {"replay_runners": 1},
    "one process": {"replay_processes": 1},
}


async def measure(settings: Settings, profile: str, stock: bool, rounds: int) -> None:
    reads = [await cursor_read(settings.database_url) for _ in range(2)]
    ways: dict[str, Settings] = {"accord": settings}
    if stock:
        ways |= {name: settings.model_copy(update=update) for name, update in STOCK.items()}
    runs: dict[str, list[Rebuilt]] = {name: [] for name in ways}
    # Rounds alternate between the ways, so a noisy neighbour slows each alike.
    for round_ in range(rounds):
        for name, way in ways.items():
            first = name == "accord" and round_ == 0
            runs[name].append(await timed_rebuild(way, "store", profile if first else ""))
    reads.append(await cursor_read(settings.database_url))
    rows, read_seconds = min(reads, key=lambda read: read[1])
    cursor = _rate(rows, read_seconds)
    accord = _median_run(runs["accord"])
    print(f"stored events:            {rows:>10,}")
    print(f"asyncpg cursor read:      {cursor:>10,.0f} rows/s   ({read_seconds:.2f} s, best of 3)")
    print(
        f"replay --source store:    {accord.line()}   ratio to the cursor read"
        f" {accord.rate / cursor:.3f}" + (f" (median of {rounds} rounds)" if rounds > 1 else "")
    )
    for name in STOCK if stock else ():
        other = _median_run(runs[name])
        server = (
            f", the server's CPU {accord.server_cpu / other.server_cpu:.2f}x"
            if other.server_cpu
            else ""
        )
        print(
            f"  {name + ':':22} {other.line()}\n"
            f"  {'':22} Accord's path is {accord.rate / other.rate:.2f}x as fast,"
            f" this process's (and its children's) CPU {accord.cpu / other.cpu:.2f}x{server}"
        )
    if settings.kafka_bootstrap:
        published = await publish_to_kafka(settings)
        kafka = await timed_rebuild(settings, "kafka")
        print(f"replay --source kafka:    {kafka.line()} of {published:,} published")
    else:
        print("replay --source kafka:    (no ACCORD_KAFKA_BOOTSTRAP: not measured)")
    verdict = "PASS" if accord.rate >= GOAL else "MISS"
    print(f"goal: replay at least {GOAL:,} events/s: {accord.rate:,.0f} {verdict}")


def _median_run(runs: list[Rebuilt]) -> Rebuilt:
    """The run of the median rate (the middle one; of two, the slower)."""
    return sorted(runs, key=lambda run: run.rate)[(len(runs) - 1) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--profile", default="", help="write a cProfile of the store rebuild")
    parser.add_argument(
        "--stock",
        action="store_true",
        help="also rebuild one event at a time, transcoded, and without COPY",
    )
    parser.add_argument("--rounds", type=int, default=1, help="rebuilds of each way, alternated")
    parser.add_argument(
        "--data",
        type=Path,
        help="keep the generated events in this data folder, and reuse them when it holds some"
        " (--events is then ignored)",
    )
    args = parser.parse_args()
    if args.data and postgres.external_url(dict(os.environ)):
        parser.error("--data keeps the events in its own embedded server: unset DATABASE_URL")
    with contextlib.ExitStack() as stack:
        data = args.data or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        generate = not (data / "postgres").exists()
        started = time.perf_counter()
        if generate:
            demo_template(data)
        kafka = os.environ.get("ACCORD_KAFKA_BOOTSTRAP", "")
        base = Settings(data_dir=data, database_url="", kafka_bootstrap=kafka)
        with database(base) as settings:
            if generate:
                generated = copy_events(settings, args.events)
                print(f"generated {generated:,} events in {time.perf_counter() - started:.1f} s")
            asyncio.run(measure(settings, args.profile, args.stock, args.rounds))


if __name__ == "__main__":
    main()
