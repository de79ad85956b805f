"""The projection runner: each consumed batch applied in ONE transaction with its offsets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg

from shared.batches import being_cancelled
from shared.bus import Consumer, Message, Partition
from shared.database import Connection
from shared.envelope import Envelope, UndecodableMessage, to_kafka
from shared.pending_writes import PendingWrites, Statements
from shared.schemas.registry import ContractViolation, UnknownEventType
from shared.telemetry import continue_trace

log = logging.getLogger(__name__)

Handler = Callable[[Connection, Envelope], Awaitable[None]]


@dataclass(frozen=True)
class Batching:
    """How a projection applies a whole batch with set-based statements (see PendingWrites).

    `apply` is the projection's handler, run on the batch's pending writes; `prepare` reads
    once what the batch's handlers would each read (it may fill the writes' memo); `order_key`
    names the stream whose order an event keeps (events of other keys touch other rows);
    `unordered` lists statements that touch no row but their own (an append-only log)."""

    apply: Callable[[Statements, Envelope], Awaitable[None]]
    order_key: Callable[[Envelope], str]
    prepare: Callable[[PendingWrites, Sequence[Envelope]], Awaitable[None]] | None = None
    unordered: frozenset[str] = field(default_factory=frozenset)


def in_arrival_order(envelope: Envelope) -> str:
    """The order key of a view whose rows events of any stream may touch: one key for all, so
    the statements run in the order the events came (consecutive ones of one SQL grouped)."""
    return ""


def _joined(held: list[Message], fetched: Sequence[Message]) -> list[Message]:
    """What the runner held before lingering, and what a fetch brought meanwhile less what it
    held already: a rebalance while it lingered seeks back to the stored offsets, so the
    records it holds come again."""
    seen = {(m.topic, m.partition, m.offset) for m in held}
    return held + [m for m in fetched if (m.topic, m.partition, m.offset) not in seen]


def _as_arrays(partitions: Iterable[Partition]) -> tuple[list[str], list[int]]:
    """Partitions as the two arrays a statement unnests: topics, and partition numbers."""
    listed = list(partitions)
    return [p.topic for p in listed], [p.partition for p in listed]


class AppliedTwice(RuntimeError):
    """A load that promised unique events applied one twice (see drop_applied_keys)."""


class _OneByOne(Exception):
    """The batch could not be applied together: it is applied again, event by event."""


# A message that can never be applied; anything else (a lost connection) is retried.
_POISON_ON_DECODE = (UndecodableMessage, UnknownEventType, ContractViolation)
_TRANSIENT = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    ConnectionError,
    OSError,
)

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS projection_offsets (
    projection text NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    next_offset bigint NOT NULL,
    PRIMARY KEY (projection, topic, partition)
);
CREATE TABLE IF NOT EXISTS projection_applied_events (
    projection text NOT NULL,
    event_id text NOT NULL,
    PRIMARY KEY (projection, event_id)
);
-- When it was first applied: ids are forgotten after the runner's `remember` period.
ALTER TABLE projection_applied_events
    ADD COLUMN IF NOT EXISTS applied_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX IF NOT EXISTS projection_applied_events_age
    ON projection_applied_events (projection, applied_at);
CREATE TABLE IF NOT EXISTS dead_letters (
    id bigserial PRIMARY KEY,
    projection text NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    "offset" bigint NOT NULL,
    key bytea,
    value bytea,
    headers jsonb NOT NULL,
    ce_type text,
    ce_id text,
    error_type text NOT NULL,
    reason text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
"""


# How often a running projection forgets the event ids older than its `remember` period, and
# how many it deletes per statement (short transactions, whatever the backlog).
FORGET_EVERY = timedelta(hours=1)
FORGET_CHUNK = 10_000


@dataclass
class BatchResult:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    # The ids of the stored events the batch applied: in the read models once it commits.
    event_ids: list[str] = field(default_factory=list)


class ProjectionRunner:
    """Consumes topics and keeps read models; a redelivered message changes nothing."""

    def __init__(
        self,
        name: str,
        consumer: Consumer,
        pool: asyncpg.Pool,
        handler: Handler,
        *,
        batch_size: int = 500,
        notify_channel: str = "",
        remember: timedelta = timedelta(days=30),
        batching: Batching | None = None,
        traced: bool = True,
        linger: float = 0.0,
        on_applied: Callable[[BatchResult], None] | None = None,
        copy_from: int = 0,
        unique_events: bool = False,
        keeps_offsets: bool = True,
    ) -> None:
        self.name = name
        # None: each event applied on its own, in a savepoint (the stock path, and the
        # fallback of a batch that fails together, so a poison event is dead-lettered alone).
        self.batching = batching
        # Whether applying an event continues its producer's trace (a span per event).
        self.traced = traced
        # Seconds to wait, once a message came, for more to apply in the same batch.
        self.linger = linger
        # Told after each committed batch that applied something, and what (a worker that reads
        # what the view wrote can start at once rather than at its next poll).
        self.on_applied = on_applied
        # A batch's group of at least this many rows of a plain insert is loaded with COPY
        # (see PendingWrites); 0: never.
        self.copy_from = copy_from
        # Whether the consumer never hands over an event twice (a rebuild from the event stores,
        # each stored event read once): a batch's event ids are then copied into the applied
        # ones rather than claimed one by one. Should one repeat after all, the copy fails on
        # the table's key and the batch is applied again one event at a time, with claims.
        self.unique_events = unique_events
        # Whether a batch locks and stores its consumer's offsets with the read models. A
        # rebuild that splits each batch between runners keeps them itself (store_offsets): the
        # runners would wait on each other's lock, and take each other's offsets for their own.
        self.keeps_offsets = keeps_offsets
        # How long an applied event's id is kept to drop it if it is republished.
        self.remember = remember
        self._forgotten_at = -math.inf
        self.consumer = consumer
        self.pool = pool
        self.handler = handler
        self.batch_size = batch_size
        self.notify_channel = notify_channel
        self.applied = 0
        self.last_error = ""
        # Set once the batch on its way (from the fetch that brought it to its commit) is done;
        # None between batches. `hurry` cuts its linger short and waits for it.
        self._in_flight: asyncio.Event | None = None
        self._hurried = asyncio.Event()
        # Set (and replaced) each time a batch is on its way: `hurry` waits for the next one.
        self._batch_started = asyncio.Event()
        # By partition, the offset up to which the read models hold every message: where the
        # runner resumed, then each committed batch's next offsets.
        self._applied: dict[Partition, int] = {}
        # Whether the last ask of where its topics end failed (said once until one succeeds).
        self._ends_unknown = False

    def readiness(self, max_lag: int) -> str | None:
        """None when applying and keeping up; otherwise why not."""
        if self.last_error:
            return f"{self.name}: {self.last_error}"
        lag = self.consumer.lag()
        if lag > max_lag:
            return f"{self.name}: {lag} messages behind (more than {max_lag})"
        return None

    async def create_tables(self) -> None:
        await self.pool.execute(SCHEMA_SQL)

    async def drop_applied_keys(self) -> None:
        """For a load of unique events only (see unique_events), into tables nobody reads yet:
        the applied ids' key and index go, built once at the end by `restore_applied_keys`
        from sorted ids rather than kept up id by id (a million random ids cost a rebuild
        about half what the audit log's rows cost the database). Meanwhile nothing stops an
        event applied twice: restoring the key then fails, and the load with it."""
        await self.pool.execute(
            "ALTER TABLE projection_applied_events DROP CONSTRAINT projection_applied_events_pkey;"
            " DROP INDEX projection_applied_events_age"
        )

    async def restore_applied_keys(self) -> None:
        """The key and index `drop_applied_keys` dropped; AppliedTwice if an event was."""
        try:
            await self.pool.execute(
                "ALTER TABLE projection_applied_events ADD PRIMARY KEY (projection, event_id)"
            )
        except asyncpg.UniqueViolationError as error:
            raise AppliedTwice(f"projection {self.name}: {error.detail or error}") from error
        await self.create_tables()

    async def stored_offsets(self, partitions: Sequence[Partition]) -> dict[Partition, int]:
        """Where to resume each partition: the offsets committed with the read models."""
        rows = await self.pool.fetch(
            "SELECT topic, partition, next_offset FROM projection_offsets WHERE projection = $1",
            self.name,
        )
        stored = {Partition(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        resumed = {p: stored.get(p, 0) for p in partitions}
        self._applied.update(resumed)
        return resumed

    async def start(self) -> None:
        await self.create_tables()
        await self.consumer.start(self.stored_offsets)

    async def run(self) -> None:
        """Consume until cancelled; a batch that fails, to fetch or to apply, is rolled back
        and consumed again from the offsets stored with the read models."""
        backoff = 0.2
        rewind = False  # whether to go back to the stored offsets before the next fetch
        while True:
            if time.monotonic() - self._forgotten_at > FORGET_EVERY.total_seconds():
                await self._forget_safely()
            try:
                if rewind:
                    await self.consumer.seek(
                        await self.stored_offsets(sorted(self.consumer.assignment()))
                    )
                    rewind = False
                messages = await self.consumer.fetch(timeout=0.5, max_records=self.batch_size)
                if not messages:
                    self.last_error = ""  # caught up, whatever failed before
                    continue
                done = self._in_flight = asyncio.Event()
                started, self._batch_started = self._batch_started, asyncio.Event()
                started.set()
                try:
                    if self.linger and len(messages) < self.batch_size:
                        await self._linger()
                        more = self.batch_size - len(messages)
                        messages = _joined(
                            messages, await self.consumer.fetch(timeout=0, max_records=more)
                        )
                    await self.apply_batch(messages)
                finally:
                    self._in_flight = None
                    done.set()
                self.last_error = ""
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if being_cancelled():
                    raise asyncio.CancelledError from error  # the stop, not a failed batch
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("projection %s: batch failed, retrying: %s", self.name, error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                rewind = True

    async def _linger(self) -> None:
        """Wait `linger` seconds for more to apply in the same batch, or until hurried."""
        self._hurried.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.linger):
                await self._hurried.wait()

    async def hurry(self) -> None:
        """Apply now everything its topics held when asked, not at the end of a linger, and
        return once that is committed. A request that reads the view calls it (with a bound on
        the wait): the view lingers only while nobody reads it, and a request never reads it
        behind what was published before it came, by this service or another one (a vote
        opened just after an expectation was made measurable puts that one to the vote too)."""
        try:
            ends = await self.consumer.end_offsets()
            self._ends_unknown = False
        except Exception as error:  # a broker away: what the runner holds, at least
            if not self._ends_unknown:  # said once, not at every request while it lasts
                log.info("projection %s: where its topics end is unknown: %s", self.name, error)
            self._ends_unknown = True
            ends = {}
        while True:
            done = self._in_flight
            if done is not None:
                self._hurried.set()
                await done.wait()
            if all(self._applied.get(p, 0) >= end for p, end in ends.items()):
                return
            if self._in_flight is None:
                await self._batch_started.wait()

    async def forget_old_events(self) -> int:
        """Forget the ids of events applied longer ago than `remember`; how many."""
        forgotten = 0
        while True:
            deleted: int = await self.pool.fetchval(
                "WITH old AS (SELECT event_id FROM projection_applied_events"
                " WHERE projection = $1 AND applied_at < now() - $2::interval LIMIT $3),"
                " gone AS (DELETE FROM projection_applied_events a USING old"
                " WHERE a.projection = $1 AND a.event_id = old.event_id RETURNING 1)"
                " SELECT count(*) FROM gone",
                self.name, self.remember, FORGET_CHUNK,
            )  # fmt: skip
            forgotten += deleted
            if deleted < FORGET_CHUNK:
                return forgotten

    async def _forget_safely(self) -> None:
        self._forgotten_at = time.monotonic()
        try:
            if forgotten := await self.forget_old_events():
                log.info("projection %s: forgot %d applied event ids", self.name, forgotten)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # tried again next time: remembering longer is harmless
            log.warning("projection %s: could not forget old event ids: %s", self.name, error)

    async def apply_batch(self, messages: Sequence[Message]) -> BatchResult:
        """Apply messages and store the next offsets, all in one transaction."""
        if self.batching is not None and messages:
            try:
                return await self._apply_together(self.batching, messages)
            except _OneByOne as why:
                log.info("projection %s: batch applied one by one: %s", self.name, why)
        return await self._apply_one_by_one(messages)

    async def _apply_together(self, batching: Batching, messages: Sequence[Message]) -> BatchResult:
        """The whole batch with grouped statements; anything that fails makes it _OneByOne
        (rolled back, nothing of it kept), except a lost connection, which is retried."""
        result = BatchResult()
        try:
            carried = [(m, m.envelope().stored_events()) for m in messages]
        except _POISON_ON_DECODE as error:
            raise _OneByOne(f"undecodable message: {error}") from error
        async with self.pool.acquire() as conn, conn.transaction():
            event_ids = [e.id for _, stored in carried for e in stored]
            if self.unique_events:
                offsets, first_time = await self._locked_offsets(conn, messages), set(event_ids)
            else:
                offsets, first_time = await self._lock_and_claim(conn, messages, event_ids)
            fresh: list[Envelope] = []
            for message, stored in carried:
                partition = Partition(message.topic, message.partition)
                if message.offset < offsets.get(partition, 0):
                    result.duplicates += 1
                    continue
                fresh.extend(stored)
                offsets[partition] = message.offset + 1
            applying = []
            for envelope in fresh:
                if envelope.id in first_time:
                    first_time.discard(envelope.id)  # a second copy in the batch is a duplicate
                    applying.append(envelope)
                else:
                    result.duplicates += 1
            writes = PendingWrites(conn, unordered=batching.unordered, copy_from=self.copy_from)
            try:
                if batching.prepare is not None:
                    await batching.prepare(writes, applying)
                for envelope in applying:
                    writes.begin(batching.order_key(envelope))
                    with self._trace(envelope):
                        await batching.apply(writes, envelope)
                    writes.end()
                await writes.flush()
            except _TRANSIENT:
                raise
            except Exception as error:
                raise _OneByOne(f"{type(error).__name__}: {error}") from error
            result.applied = len(applying)
            result.event_ids = [envelope.id for envelope in applying]
            if self.unique_events:
                await self._copy_applied(conn, result.event_ids)
            await self._store_offsets(conn, offsets if self.keeps_offsets else {}, result)
        return await self._committed(offsets, result)

    async def _apply_one_by_one(self, messages: Sequence[Message]) -> BatchResult:
        result = BatchResult()
        async with self.pool.acquire() as conn, conn.transaction():
            offsets = await self._locked_offsets(conn, messages)
            for message in messages:
                partition = Partition(message.topic, message.partition)
                if message.offset < offsets.get(partition, 0):
                    result.duplicates += 1  # redelivered after a rebalance or a restart
                    continue
                outcome = await self._apply_one(conn, message, result.event_ids)
                setattr(result, outcome, getattr(result, outcome) + 1)
                offsets[partition] = message.offset + 1
            await self._store_offsets(conn, offsets if self.keeps_offsets else {}, result)
        return await self._committed(offsets, result)

    async def store_offsets(self, offsets: dict[Partition, int]) -> None:
        """Store the next offsets of partitions, for a runner that does not keep them."""
        async with self.pool.acquire() as conn:
            await self._store_offsets(conn, offsets, BatchResult())

    async def _store_offsets(
        self, conn: Connection, offsets: dict[Partition, int], result: BatchResult
    ) -> None:
        """The next offsets, and the NOTIFY of a batch that applied something (delivered by
        PostgreSQL only when the transaction commits), in one statement."""
        await conn.execute(
            "WITH stored AS (INSERT INTO projection_offsets (projection, topic, partition,"
            " next_offset) SELECT $1, t, p, o FROM unnest($2::text[], $3::int[], $4::bigint[])"
            " AS u(t, p, o) ON CONFLICT (projection, topic, partition)"
            " DO UPDATE SET next_offset = excluded.next_offset)"
            " SELECT pg_notify($5, $1) WHERE $5 <> ''",
            self.name,
            *_as_arrays(offsets),
            list(offsets.values()),
            self.notify_channel if result.applied else "",
        )

    async def _committed(self, offsets: dict[Partition, int], result: BatchResult) -> BatchResult:
        self.applied += result.applied
        for partition, offset in offsets.items():
            self._applied[partition] = max(self._applied.get(partition, 0), offset)
        if result.applied and self.on_applied is not None:
            self.on_applied(result)
        try:
            await self.consumer.commit(offsets)
        except Exception as error:
            log.info("projection %s: broker commit skipped: %s", self.name, error)
        return result

    async def _lock_and_claim(
        self, conn: Connection, messages: Sequence[Message], event_ids: list[str]
    ) -> tuple[dict[Partition, int], set[str]]:
        """In one statement: the stored offsets of the batch's partitions, locked until the
        batch commits, and which of the events were never applied (their ids recorded now).
        An event below its stored offset is skipped by the offset whatever its id says."""
        partitions = sorted({Partition(m.topic, m.partition) for m in messages})
        if not self.keeps_offsets:
            partitions = []  # every message is new to this runner: only the ids tell
        rows = await conn.fetch(
            "WITH locked AS (SELECT topic, partition, next_offset FROM projection_offsets"
            " WHERE projection = $1 AND (topic, partition) IN"
            " (SELECT * FROM unnest($2::text[], $3::int[])) FOR UPDATE),"
            " claimed AS (INSERT INTO projection_applied_events (projection, event_id)"
            " SELECT $1, unnest($4::text[]) ON CONFLICT DO NOTHING RETURNING event_id)"
            " SELECT topic, partition, next_offset, NULL::text AS event_id FROM locked"
            " UNION ALL SELECT NULL, NULL, NULL, event_id FROM claimed",
            self.name,
            *_as_arrays(partitions),
            event_ids,
        )  # fmt: skip
        offsets = {
            Partition(r["topic"], r["partition"]): r["next_offset"]
            for r in rows
            if r["event_id"] is None
        }
        return offsets, {r["event_id"] for r in rows if r["event_id"] is not None}

    async def _copy_applied(self, conn: Connection, event_ids: list[str]) -> None:
        """Record the ids as applied, in one COPY (a repeated one fails on the key)."""
        try:
            await conn.copy_records_to_table(
                "projection_applied_events",
                records=[(self.name, event_id) for event_id in event_ids],
                columns=("projection", "event_id"),
            )
        except asyncpg.UniqueViolationError as error:
            raise _OneByOne(f"an event came twice: {error}") from error

    async def _locked_offsets(
        self, conn: Connection, messages: Sequence[Message]
    ) -> dict[Partition, int]:
        if not self.keeps_offsets:
            return {}
        offsets, _ = await self._lock_and_claim(conn, messages, [])
        return offsets

    async def _apply_one(self, conn: Connection, message: Message, event_ids: list[str]) -> str:
        """Apply one message in a savepoint; the ids of the stored events it applied are added
        to `event_ids` once all of them are."""
        try:
            envelope = message.envelope()
        except _POISON_ON_DECODE as error:
            await self._dead_letter(conn, message, error)
            return "dead_lettered"
        try:
            async with conn.transaction():  # a savepoint: a failed handler leaves no trace
                applied: list[str] = []
                # One record may carry a fact stored on several aggregates: each stored event.
                for stored in envelope.stored_events():
                    first_time = await conn.fetchval(
                        "INSERT INTO projection_applied_events (projection, event_id)"
                        " VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
                        self.name,
                        stored.id,
                    )
                    if not first_time:
                        continue  # republished by a relay that crashed mid-batch
                    with self._trace(stored):
                        await self.handler(conn, stored)
                    applied.append(stored.id)
                if not applied:
                    return "duplicates"
        except _TRANSIENT:
            raise
        except Exception as error:
            await self._dead_letter(conn, message, error, envelope)
            return "dead_lettered"
        event_ids.extend(applied)
        return "applied"

    def _trace(self, envelope: Envelope) -> contextlib.AbstractContextManager[object]:
        if not self.traced:
            return contextlib.nullcontext()
        return continue_trace(
            envelope.traceparent,
            f"{self.name} apply {envelope.type}",
            **{"messaging.message.id": envelope.id},
        )

    async def _dead_letter(
        self,
        conn: Connection,
        message: Message,
        error: Exception,
        envelope: Envelope | None = None,
    ) -> None:
        log.warning(
            "projection %s: dead letter at %s:%s/%s: %s",
            self.name,
            message.topic,
            message.partition,
            message.offset,
            error,
        )
        key, value, raw_headers = message.key, message.value, list(message.headers)
        if value is None and envelope is not None:
            # Decoded without its bytes (the in-process bus, a replay from the event stores):
            # keep what the outbox relay would have published.
            key, value, raw_headers = to_kafka(envelope)
        headers = [[name, raw.decode("utf-8", "replace")] for name, raw in raw_headers]
        found = dict((name, text) for name, text in headers)
        await conn.execute(
            'INSERT INTO dead_letters (projection, topic, partition, "offset", key, value,'
            " headers, ce_type, ce_id, error_type, reason)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11)",
            self.name,
            message.topic,
            message.partition,
            message.offset,
            key,
            value,
            json.dumps(headers),
            envelope.type if envelope else found.get("ce_type"),
            envelope.id if envelope else found.get("ce_id"),
            type(error).__name__,
            str(error),
        )
