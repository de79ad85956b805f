"""Replay: every read model rebuilt from the services' event stores, in events/s, beside an
asyncpg cursor reading the same stored rows (the database's limit for this shape).

Run: `.venv/bin/python -m bench.replay [--events 1000000]`. Starts `accord dev` on a scratch
data folder and loads `accord demo` through its public API (a contract through every service:
elicitation, ranking, notifications); stops it; then copies those stored events, every id
made new per copy, through each service's own recorder until the stores hold N events; then
times an asyncpg cursor over the rows and `rebuild(settings, "store")`, the code `accord replay
--source store` runs. With ACCORD_KAFKA_BOOTSTRAP set, the same events are published to the
topics and replayed from Kafka as well. Prints events/s, the ratio to the cursor read (the
best of three reads, before and after), the events per CPU second of this process (which a
busy host disturbs less), and the goal (17,000 events/s) with PASS or MISS. `--stock` also
rebuilds with ACCORD_PROJECTION_BATCHED off (each event on its own, the path before batches)
and prints the speed-up, then with ACCORD_REPLAY_DECODE=stock (stored events decoded by the
library's transcoder); `--profile FILE` writes a cProfile of the store rebuild.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from eventsourcing.application import Application
from eventsourcing.persistence import Notification, StoredEvent

from accord.database import database
from services.elicitation.application import Elicitation
from services.gateway.replay import STORE_SERVICES, rebuild, stored_envelope
from services.notifications.application import Notifications
from services.ranking.application import Prioritizations
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


async def timed_rebuild(
    settings: Settings, source: Any, profile: str = ""
) -> tuple[int, float, float]:
    """`accord replay --source <source>`'s rebuild: events applied, seconds, CPU seconds."""
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    applied = await rebuild(settings, source, lambda done, total: None)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return applied, seconds, cpu


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else 0.0


async def measure(settings: Settings, profile: str, stock: bool) -> None:
    reads = [await cursor_read(settings.database_url) for _ in range(2)]
    applied, seconds, cpu = await timed_rebuild(settings, "store", profile)
    reads.append(await cursor_read(settings.database_url))
    rows, read_seconds = min(reads, key=lambda read: read[1])
    cursor, replay = _rate(rows, read_seconds), _rate(applied, seconds)
    print(f"stored events:            {rows:>10,}")
    print(f"asyncpg cursor read:      {cursor:>10,.0f} rows/s   ({read_seconds:.2f} s, best of 3)")
    print(
        f"replay --source store:    {replay:>10,.0f} events/s ({seconds:.1f} s,"
        f" {applied:,} applied, {_rate(applied, cpu):,.0f} per CPU second of this process)"
        f"   ratio to the cursor read {replay / cursor:.3f}"
    )
    if stock:
        one_by_one = settings.model_copy(update={"projection_batched": False})
        applied, stock_seconds, stock_cpu = await timed_rebuild(one_by_one, "store")
        print(
            f"  the same, one by one:   {_rate(applied, stock_seconds):>10,.0f} events/s"
            f" ({stock_seconds:.1f} s, {_rate(applied, stock_cpu):,.0f} per CPU second)"
            f"   batches together are {stock_seconds / seconds:.1f}x as fast"
        )
        transcoded = settings.model_copy(update={"replay_decode": "stock"})
        applied, stock_seconds, stock_cpu = await timed_rebuild(transcoded, "store")
        print(
            f"  the library's decode:   {_rate(applied, stock_seconds):>10,.0f} events/s"
            f" ({stock_seconds:.1f} s, {_rate(applied, stock_cpu):,.0f} per CPU second)"
            f"   orjson's is {stock_seconds / seconds:.2f}x as fast"
        )
    if settings.kafka_bootstrap:
        published = await publish_to_kafka(settings)
        applied, seconds, _ = await timed_rebuild(settings, "kafka")
        print(
            f"replay --source kafka:    {_rate(applied, seconds):>10,.0f} events/s"
            f" ({seconds:.1f} s, {applied:,} of {published:,} published)"
        )
    else:
        print("replay --source kafka:    (no ACCORD_KAFKA_BOOTSTRAP: not measured)")
    verdict = "PASS" if replay >= GOAL else "MISS"
    print(f"goal: replay at least {GOAL:,} events/s: {replay:,.0f} {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--profile", default="", help="write a cProfile of the store rebuild")
    parser.add_argument(
        "--stock", action="store_true", help="also rebuild one event at a time, and transcoded"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        started = time.perf_counter()
        demo_template(Path(data))
        kafka = os.environ.get("ACCORD_KAFKA_BOOTSTRAP", "")
        base = Settings(data_dir=Path(data), database_url="", kafka_bootstrap=kafka)
        with database(base) as settings:
            generated = copy_events(settings, args.events)
            print(f"generated {generated:,} events in {time.perf_counter() - started:.1f} s")
            asyncio.run(measure(settings, args.profile, args.stock))


if __name__ == "__main__":
    main()
