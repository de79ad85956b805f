"""`accord replay`: drop and rebuild every read model from the Kafka topics or from the services'
event stores, in a fresh schema that replaces the live one only once it is complete.

The live schema keeps serving, and the live projector keeps projecting into it, while the
rebuild runs. Messages are applied by the kernel's own `ProjectionRunner.apply_batch` with the
projector's dispatcher, so a rebuilt row is made exactly as a live one is.

The swap takes a lock on the live schema's offsets table, which every projector batch locks
first: no batch is half-applied at that moment, and the rebuild first catches up with all the
live projector had applied. Then the schemas are renamed in one transaction; the projector's
connections find the new tables by their search_path from their next statement on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol
from uuid import uuid4

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.gateway.projections import dispatch
from services.gateway.projections.schema import SCHEMA_NAME, create_tables
from services.gateway.projector import NOTIFY_CHANNEL, PROJECTION, TOPICS
from services.gateway.stored_events import Decode, stored_envelope
from shared.bus import Consumer, Message, OnAssigned, Partition
from shared.bus_kafka import KafkaAccess, access
from shared.database import create_pool
from shared.projection import AppliedTwice, ProjectionRunner
from shared.schemas.registry import topic_for
from shared.settings import Settings

log = logging.getLogger(__name__)

Source = Literal["kafka", "store"]
# Called after each batch with (messages read, messages to read).
Progress = Callable[[int, int], None]

# The services whose event stores hold published events, each in its own schema; a service
# that has stored nothing yet is skipped.
STORE_SERVICES = ("elicitation", "ranking", "notifications")
# Stored events have no Kafka partition: they are marked with this one (see the audit log).
STORE_PARTITION = -1
# NOTIFY'd on the projector's channel when a rebuilt schema replaced the live one: every row
# may have changed, and the audit log's arrival positions were numbered afresh.
REPLAYED = f"{PROJECTION}:replayed"
# A rebuild that reads nothing for this long is stuck (a broker away): it gives up.
STALL_SECONDS = 60.0
# Events applied per transaction while rebuilding: nobody reads the staging schema, and the
# bigger the batch, the more of its statements run together.
REPLAY_BATCH_SIZE = 5_000
# Stored events decoded at a time while the batch before them is applied (a few milliseconds):
# between slices the applying batch gets the event loop for its next statement.
DECODE_SLICE = 100


# Indexes of the two tables that take a row for (nearly) every event, which only the gateway's
# queries read, never a handler: a rebuild drops them from its staging schema while it loads.
LOADED_WITHOUT = (
    "audit_log_by_contract",
    "audit_log_in_order",
    "audit_log_keyset",
    "audit_log_by_type",
    "audit_log_by_actor",
    "expectation_versions_as_of",
    "expectation_versions_by_contract",
)


class ReplayFailed(RuntimeError):
    """The rebuild could not finish; the live read models were left as they were."""


async def rebuild(
    settings: Settings,
    source: Source,
    progress: Progress,
    *,
    schema: str = SCHEMA_NAME,
) -> int:
    """Rebuild every read model of `schema` from `source` and swap it in; answers the number of
    events applied. `schema` is for tests, which keep their read models apart. Batches are
    applied together unless `settings.projection_batched` is off, as the live projector's."""
    staging = f"{schema}_rebuild_{uuid4().hex[:8]}"
    guard = await asyncpg.connect(settings.database_url)
    try:
        lock = f"accord-replay:{schema}"
        if not await guard.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock):
            raise ReplayFailed(f"another replay of {schema} is running")
        try:
            return await _rebuild_into(guard, settings, source, progress, schema, staging)
        except BaseException:
            # Half a rebuild is no use to anyone; the live schema was never touched.
            with contextlib.suppress(Exception):
                await guard.execute(f'DROP SCHEMA IF EXISTS "{staging}" CASCADE')
            raise
        finally:
            await guard.execute("SELECT pg_advisory_unlock(hashtext($1))", lock)
    finally:
        await guard.close()


async def _rebuild_into(
    guard: asyncpg.Connection[Any],
    settings: Settings,
    source: Source,
    progress: Progress,
    schema: str,
    staging: str,
) -> int:
    feed: Feed
    if source == "kafka":
        if not settings.kafka_bootstrap:
            raise ReplayFailed("no Kafka is configured (ACCORD_KAFKA_BOOTSTRAP): use the store")
        feed = KafkaFeed(KafkaAccess.of(settings), TOPICS)
    else:
        feed = StoreFeed(settings.database_url, STORE_SERVICES, decode=settings.replay_decode)
    pool = await create_pool(settings.database_url, staging)
    try:
        async with pool.acquire() as conn:
            await create_tables(conn)
            # Built once at the end, from sorted rows, rather than kept up row by row.
            for index in LOADED_WITHOUT:
                await conn.execute(f'DROP INDEX "{staging}"."{index}"')
        # No NOTIFY while rebuilding: nobody reads the staging schema yet.
        split = settings.replay_runners > 1
        runners = [
            ProjectionRunner(
                PROJECTION,
                feed,
                pool,
                dispatch.apply,
                batch_size=max(settings.projection_batch_size, REPLAY_BATCH_SIZE),
                batching=dispatch.BATCHING if settings.projection_batched else None,
                # A span per event of the whole history would bury every trace worth reading.
                traced=False,
                copy_from=settings.projection_copy_rows,
                unique_events=feed.unique_events,
                keeps_offsets=not split,
            )
            for _ in range(settings.replay_runners)
        ]
        runner = Runners(runners)
        await runners[0].start()  # the offsets table, and the feed
        if feed.unique_events:
            await runners[0].drop_applied_keys()
        try:
            await _drain(runner, feed, progress)
            if feed.unique_events:
                try:
                    await runners[0].restore_applied_keys()
                except AppliedTwice as error:
                    raise ReplayFailed(f"an event came twice from the stores: {error}") from error
            async with pool.acquire() as conn:
                await create_tables(conn)  # the indexes dropped above, and nothing else
            await _swap(guard, runner, feed, progress, schema, staging)
        finally:
            await feed.stop()
    finally:
        await pool.close()
    return runner.applied


class Runners:
    """The rebuild's projection runners, each applying the events of some contracts: a batch
    read is split between them by its messages' keys (a contract's events all go to one, in
    order; contracts share no rows), and they apply their parts at once, each on its own
    connection. While one waits for the database, another runs its handlers; the database
    works on both parts at once. With more than one, the runners keep no offsets: the next
    offsets are stored once the feed is drained (`settle`), before the swap reads them (a
    failed rebuild is dropped whole, so nothing needs them committed with each batch)."""

    def __init__(self, runners: Sequence[ProjectionRunner]) -> None:
        self.runners = list(runners)
        self.batch_size = runners[0].batch_size
        # The next offsets of what was applied and is not stored yet.
        self._unsettled: dict[Partition, int] = {}

    @property
    def applied(self) -> int:
        return sum(runner.applied for runner in self.runners)

    async def apply_batch(self, messages: Sequence[Message]) -> None:
        if len(self.runners) == 1:
            await self.runners[0].apply_batch(messages)
            return
        parts: list[list[Message]] = [[] for _ in self.runners]
        offsets = self._unsettled
        for message in messages:
            parts[zlib.crc32(message.key or b"") % len(parts)].append(message)
            offsets[Partition(message.topic, message.partition)] = message.offset + 1
        applying = [
            asyncio.create_task(runner.apply_batch(part))
            for runner, part in zip(self.runners, parts, strict=True)
            if part
        ]
        try:
            await asyncio.gather(*applying)
        finally:  # one failed: the others stop too (the rebuild is given up)
            for task in applying:
                task.cancel()
            await asyncio.gather(*applying, return_exceptions=True)

    async def settle(self) -> None:
        """Store the next offsets of everything applied so far."""
        if self._unsettled:
            await self.runners[0].store_offsets(self._unsettled)
            self._unsettled = {}


async def _drain(runner: Runners, feed: Feed, progress: Progress) -> None:
    """Apply batches until the feed has given everything up to its target."""
    last_read = time.monotonic()
    progress(feed.done, feed.total)
    while not await feed.caught_up():
        messages = await feed.fetch(timeout=1.0, max_records=runner.batch_size)
        if messages:
            await runner.apply_batch(messages)
            last_read = time.monotonic()
        elif time.monotonic() - last_read > STALL_SECONDS:
            raise ReplayFailed(f"nothing could be read for {STALL_SECONDS:.0f} s")
        progress(feed.done, feed.total)
    await runner.settle()


async def _swap(
    guard: asyncpg.Connection[Any],
    runner: Runners,
    feed: Feed,
    progress: Progress,
    schema: str,
    staging: str,
) -> None:
    live_offsets = f'"{schema}".projection_offsets'
    live = await guard.fetchval("SELECT to_regclass($1) IS NOT NULL", live_offsets)
    if live:
        # Catch up with the live projector without blocking it, so the locked part is short.
        await feed.extend(await _offsets(guard, live_offsets))
        await _drain(runner, feed, progress)
    retired = f"{schema}_replaced_{uuid4().hex[:8]}"
    async with guard.transaction():
        offsets: dict[Partition, int] = {}
        if live:
            # Waits for a batch in flight, and holds the next one until the swap commits.
            await guard.execute(f"LOCK TABLE {live_offsets} IN EXCLUSIVE MODE")
            offsets = await _offsets(guard, live_offsets)
            await feed.extend(offsets)
            await _drain(runner, feed, progress)
        if feed.adopts_live_offsets:
            # Stored events carry no Kafka offsets: the projector resumes where it was, and
            # drops what the rebuild already holds by event id.
            await guard.execute(
                f'DELETE FROM "{staging}".projection_offsets WHERE projection = $1', PROJECTION
            )
            await guard.executemany(
                f'INSERT INTO "{staging}".projection_offsets'
                " (projection, topic, partition, next_offset) VALUES ($1, $2, $3, $4)",
                [(PROJECTION, p.topic, p.partition, o) for p, o in offsets.items()],
            )
        exists = await guard.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema
        )
        if exists:
            await guard.execute(f'ALTER SCHEMA "{schema}" RENAME TO "{retired}"')
        await guard.execute(f'ALTER SCHEMA "{staging}" RENAME TO "{schema}"')
        # Delivered on commit: whoever listens reads again from scratch.
        await guard.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, REPLAYED)
    log.info("replay: %s rebuilt (%d events applied)", schema, runner.applied)
    if exists:
        # Waits for a projector batch that was still reading the old offsets table.
        await guard.execute(f'DROP SCHEMA "{retired}" CASCADE')


async def _offsets(conn: asyncpg.Connection[Any], table: str) -> dict[Partition, int]:
    rows = await conn.fetch(
        f"SELECT topic, partition, next_offset FROM {table} WHERE projection = $1", PROJECTION
    )
    return {Partition(r["topic"], r["partition"]): r["next_offset"] for r in rows}


class Feed(Consumer, Protocol):
    """A consumer of everything from the beginning, that knows how far it has to go."""

    # True when its offsets mean nothing to the live projector (they are not Kafka's).
    adopts_live_offsets: bool
    # True when it never hands over an event twice (see ProjectionRunner.unique_events).
    unique_events: bool

    @property
    def done(self) -> int: ...

    @property
    def total(self) -> int: ...

    async def caught_up(self) -> bool: ...

    async def extend(self, live: dict[Partition, int]) -> None:
        """Go at least as far as the live projector got (and what has arrived since)."""


# Kafka


class KafkaFeed:
    """Every partition of the topics, from the first offset, as a consumer in no group."""

    adopts_live_offsets = False
    # A relay that crashed mid-batch published some events again.
    unique_events = False

    def __init__(self, cluster: str | KafkaAccess, topics: Sequence[str]) -> None:
        self._access = access(cluster)
        self._topics = list(topics)
        self._consumer = AIOKafkaConsumer(
            **self._access.options(),
            group_id=None,
            client_id="accord-replay",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        self._first: dict[TopicPartition, int] = {}
        self._target: dict[TopicPartition, int] = {}
        self._position: dict[TopicPartition, int] = {}
        self._on_assigned: OnAssigned | None = None

    async def start(self, on_assigned: OnAssigned) -> None:
        self._on_assigned = on_assigned
        await self._consumer.start()
        await self._assign_every_partition()

    async def _assign_every_partition(self) -> None:
        """Assign what the topics have now: a topic may appear, or gain partitions, later."""
        found = sorted(
            (tp for tp in await self._partitions() if tp not in self._target),
            key=lambda tp: (tp.topic, tp.partition),
        )
        if not found:
            return
        assert self._on_assigned is not None
        resume = await self._on_assigned([Partition(tp.topic, tp.partition) for tp in found])
        self._consumer.assign([*self._target, *found])
        first = await self._consumer.beginning_offsets(found)
        self._target.update(await self._consumer.end_offsets(found))
        for tp in found:
            self._first[tp] = first[tp]
            self._position[tp] = max(first[tp], resume.get(Partition(tp.topic, tp.partition), 0))
        # A new assignment forgets positions: every partition goes back to where it was.
        for tp, offset in self._position.items():
            self._consumer.seek(tp, offset)

    async def _partitions(self) -> list[TopicPartition]:
        admin = AIOKafkaAdminClient(**self._access.options(), client_id="accord-replay")
        await admin.start()
        try:
            described = await admin.describe_topics(self._topics)
        finally:
            await admin.close()
        # A topic nobody has published to yet does not exist: there is nothing to read.
        return [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            if topic["error_code"] == 0
            for partition in topic["partitions"]
        ]

    async def fetch(self, timeout: float, max_records: int) -> list[Message]:
        pending = [tp for tp in self._target if self._position[tp] < self._target[tp]]
        if not pending:
            return []
        batches = await self._consumer.getmany(
            *pending, timeout_ms=int(timeout * 1000), max_records=max_records
        )
        messages = []
        for tp, records in batches.items():
            for r in records:
                messages.append(
                    Message(r.topic, r.partition, r.offset, r.key, r.value, tuple(r.headers or ()))
                )
            if records:
                self._position[tp] = records[-1].offset + 1
        return messages

    async def caught_up(self) -> bool:
        for tp, target in self._target.items():
            if self._position[tp] < target:
                # Offsets may skip (control records): the consumer's position is the truth.
                self._position[tp] = max(self._position[tp], await self._consumer.position(tp))
                if self._position[tp] < target:
                    return False
        return True

    async def extend(self, live: dict[Partition, int]) -> None:
        await self._assign_every_partition()
        for partition, offset in live.items():
            tp = TopicPartition(partition.topic, partition.partition)
            if tp in self._target:
                self._target[tp] = max(self._target[tp], offset)

    @property
    def done(self) -> int:
        return sum(
            min(self._position[tp], self._target[tp]) - self._first[tp] for tp in self._target
        )

    @property
    def total(self) -> int:
        return sum(self._target[tp] - self._first[tp] for tp in self._target)

    async def seek(self, positions: dict[Partition, int]) -> None:
        for partition, offset in positions.items():
            tp = TopicPartition(partition.topic, partition.partition)
            if tp in self._target:
                self._position[tp] = offset
                self._consumer.seek(tp, offset)

    async def commit(self, positions: dict[Partition, int]) -> None:
        return None  # no group: the rebuilt schema's offsets table is the only record

    def lag(self) -> int:
        return 0  # a replay feed reports its progress through the progress callback

    def assignment(self) -> set[Partition]:
        return {Partition(tp.topic, tp.partition) for tp in self._target}

    async def stop(self) -> None:
        await self._consumer.stop()


# Event stores


class StoreFeed:
    """Each service's stored events in notification order, read from its own schema.

    Messages carry the service's topic, partition STORE_PARTITION and the notification id as
    offset; the audit log keeps those, so only its topic/partition/offset columns tell a
    store rebuild from a Kafka one."""

    adopts_live_offsets = True
    # Each stored event is read once: past the last notification id read, never again.
    unique_events = True

    def __init__(
        self, database_url: str, services: Sequence[str], *, decode: Decode = "accord"
    ) -> None:
        self._database_url = database_url
        self._decode = decode
        self._services = list(services)
        self._conn: asyncpg.Connection[Any] | None = None
        self._tables: dict[str, str] = {}
        self._after: dict[str, int] = {}
        self._target: dict[str, int] = {}
        self._done = 0
        self._total = 0
        # The next messages, read and decoded while the runner applies the ones before.
        self._ahead: asyncio.Task[list[Message]] | None = None

    async def start(self, on_assigned: OnAssigned) -> None:
        self._conn = await asyncpg.connect(self._database_url)
        await self._refresh()

    async def _refresh(self) -> None:
        """Read up to what is stored, and final, now."""
        assert self._conn is not None
        remaining = 0
        for service in self._services:
            table = f'"{service}"."{service}_events"'
            if not await self._conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table):
                continue  # the service never stored anything here
            self._tables[service] = table
            after = self._after.setdefault(service, 0)
            row = await self._conn.fetchrow(
                f"SELECT max(notification_id) AS newest, count(*) AS left FROM {table}"
                f" WHERE notification_id > $1 AND {await self._finished(service)}",
                after,
            )
            assert row is not None
            self._target[service] = max(self._target.get(service, after), row["newest"] or 0)
            remaining += row["left"]
        self._total = self._done + remaining

    async def _finished(self, service: str) -> str:
        """The condition of rows no transaction still writes to: Accord's recorder numbers
        events by their transaction, so one still running may yet commit below the newest
        id; only rows below the oldest transaction still running are final. The library's
        recorder hands ids out in commit order, under a table lock: all its rows are."""
        assert self._conn is not None
        if await self._conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = $1"
            " AND table_name = $2 AND column_name = 'xact_id')",
            service, f"{service}_events",
        ):  # fmt: skip
            return "xact_id < pg_snapshot_xmin(pg_current_snapshot())"
        return "true"

    async def fetch(self, timeout: float, max_records: int) -> list[Message]:
        if self._ahead is None:
            self._ahead = asyncio.create_task(self._read(max_records))
        messages = await self._ahead
        # Reading and decoding the next ones overlaps with the database applying these.
        self._ahead = asyncio.create_task(self._read(max_records)) if messages else None
        self._done += len(messages)
        return messages

    async def _read(self, max_records: int) -> list[Message]:
        assert self._conn is not None
        for service, table in self._tables.items():
            if self._after[service] >= self._target[service]:
                continue
            rows = await self._conn.fetch(
                "SELECT notification_id, originator_id, originator_version, topic, state"
                f" FROM {table} WHERE notification_id > $1 AND notification_id <= $2"
                " ORDER BY notification_id LIMIT $3",
                self._after[service], self._target[service], max_records,
            )  # fmt: skip
            if not rows:
                self._after[service] = self._target[service]
                continue
            self._after[service] = rows[-1]["notification_id"]
            messages = []
            for start in range(0, len(rows), DECODE_SLICE):
                if start:
                    # Let the batch being applied send its next statement without waiting.
                    await asyncio.sleep(0)
                messages += [
                    _message_of(service, row, self._decode)
                    for row in rows[start : start + DECODE_SLICE]
                ]
            return messages
        return []

    async def caught_up(self) -> bool:
        if self._ahead is not None:
            if not self._ahead.done() or self._ahead.result():
                return False  # read, not yet handed over
            self._ahead = None
        return all(self._after[s] >= self._target[s] for s in self._tables)

    async def extend(self, live: dict[Partition, int]) -> None:
        # The projector applied only what a relay published, and a relay publishes only what
        # is stored: everything stored by now covers all the live projector has.
        await self._refresh()

    @property
    def done(self) -> int:
        return self._done

    @property
    def total(self) -> int:
        return self._total

    async def seek(self, positions: dict[Partition, int]) -> None:
        return None  # apply_batch fails as a whole; the caller gives up rather than retries

    async def commit(self, positions: dict[Partition, int]) -> None:
        return None

    def lag(self) -> int:
        return 0  # a replay feed reports its progress through the progress callback

    def assignment(self) -> set[Partition]:
        return set()

    async def stop(self) -> None:
        if self._ahead is not None:
            self._ahead.cancel()
            await asyncio.gather(self._ahead, return_exceptions=True)
        if self._conn is not None:
            await self._conn.close()


def _message_of(service: str, row: asyncpg.Record, decode: Decode) -> Message:
    topic, offset = topic_for(service), row["notification_id"]
    envelope = stored_envelope(
        service, row["originator_id"], row["originator_version"], row["topic"], row["state"],
        at=(topic, STORE_PARTITION, offset), decode=decode, position=offset,
    )  # fmt: skip
    # Decoded already: no bytes to make and read back (a dead letter gets the relay's bytes,
    # see the runner).
    return Message(topic, STORE_PARTITION, offset, envelope.key.encode(), None, (), envelope)
