"""Each service's stored events as a rebuild reads them: in notification order, from its own
schema, only what no transaction still writes below, decoded while the batch before them is
applied. A shard of the feed (`Shard`) hands over only the events of its share of the
contracts: a rebuild split between processes gives each one shard."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from services.gateway.stored_events import (
    Decode,
    envelope_of,
    key_of,
    parsed,
    stored_key,
    untagged,
)
from shared.bus import Message, OnAssigned, Partition
from shared.recorder import bound_statement, read_bound
from shared.schemas.registry import topic_for

# The services whose event stores hold published events, each in its own schema; a service
# that has stored nothing yet is skipped.
STORE_SERVICES = ("elicitation", "ranking", "notifications")
# Stored events have no Kafka partition: they are marked with this one (see the audit log).
STORE_PARTITION = -1
# Stored events decoded at a time while the batch before them is applied (a few milliseconds):
# between slices the applying batch gets the event loop for its next statement.
DECODE_SLICE = 100


@dataclass(frozen=True)
class Shard:
    """The share `index` of `count` of the contracts: a contract's events are all in one."""

    index: int
    count: int

    def holds(self, key: str) -> bool:
        return self.holds_key(key.encode())

    def holds_key(self, key: bytes) -> bool:
        """`holds`, of a message key as the bus carries it."""
        return shard_of(key, self.count) == self.index


def shard_of(key: bytes, count: int) -> int:
    """Which of `count` shares a message key (its contract) falls in."""
    return zlib.crc32(key) % count


class MisroutedEvent(RuntimeError):
    """A stored event's contract, read from its JSON to route it, is not the one decoding it
    finds: the event may have gone to the wrong shard, so the load cannot go on."""


def shares_fields(
    shard: Shard, state: bytes, originator_id: UUID, decode: Decode
) -> dict[str, Any] | None:
    """The stored event's parsed fields if it is in `shard` (None: another shard's), routed by
    the contract read from its JSON without parsing it (`stored_key`), else by the key its
    parsed fields give (`key_of`); MisroutedEvent where the two differ."""
    routed = stored_key(state)
    if routed and not shard.holds(routed):
        return None  # unless the two differ, this shard's fields are all it parses
    fields = parsed(state, decode)
    key = key_of(fields, str(originator_id))
    if routed and key != routed:
        raise MisroutedEvent(
            f"stored event {originator_id}: its JSON names contract {routed} where its"
            f" provenance names {key}; rebuild with ACCORD_REPLAY_PROCESSES=1"
        )
    return fields if shard.holds(key) else None


class StoreFeed:
    """Each service's stored events in notification order, read from its own schema.

    Messages carry the service's topic, partition STORE_PARTITION and the notification id as
    offset; the audit log keeps those, so only its topic/partition/offset columns tell a
    store rebuild from a Kafka one."""

    adopts_live_offsets = True
    # Each stored event is read once: past the last notification id read, never again.
    unique_events = True

    def __init__(
        self,
        database_url: str,
        services: Sequence[str],
        *,
        decode: Decode = "accord",
        shard: Shard | None = None,
    ) -> None:
        self._database_url = database_url
        self._decode = decode
        self._services = list(services)
        self._shard = shard
        self._conn: asyncpg.Connection[Any] | None = None
        self._tables: dict[str, str] = {}
        self._after: dict[str, int] = {}
        self._target: dict[str, int] = {}
        self._done = 0
        self._total = 0
        # The next messages, read and decoded while the runner applies the ones before.
        self._ahead: asyncio.Task[tuple[list[Message], int]] | None = None

    async def start(self, on_assigned: OnAssigned) -> None:
        self._conn = await asyncpg.connect(self._database_url)
        await self._refresh()

    @property
    def read_after(self) -> dict[str, int]:
        """Each service's last notification id read (0: none)."""
        return dict(self._after)

    @property
    def targets(self) -> dict[str, int]:
        """How far each service's events are read: the last notification id to hand over."""
        return dict(self._target)

    async def start_between(self, after: dict[str, int], targets: dict[str, int]) -> None:
        """Start as `start`, but hand over only the events after `after` up to `targets`
        (each service's notification ids), and go no further: one part of a rebuild."""
        self._conn = await asyncpg.connect(self._database_url)
        for service in targets:
            self._tables[service] = f'"{service}"."{service}_events"'
        self._after, self._target = dict(after), dict(targets)

    def skip_loaded(self) -> None:
        """Go on past the targets: what is before them was handed over elsewhere."""
        self._after = dict(self._target)
        self._done = self._total

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
        """The condition of rows no writer still writes to: Accord's recorder numbers events
        by their transaction, so a writer still running may yet commit below the newest id;
        only rows below the oldest writer still running are final (the bound the recorder's
        own readers take: shared/recorder.py). The library's recorder hands ids out in
        commit order, under a table lock: all its rows are."""
        assert self._conn is not None
        table = f"{service}_events"
        if await self._conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = $1"
            " AND table_name = $2 AND column_name = 'xact_id')",
            service, table,
        ):  # fmt: skip
            row = await self._conn.fetchrow(bound_statement(service, table))
            assert row is not None
            return f"xact_id < '{read_bound(row['snapshot'], row['writers'])}'::xid8"
        return "true"

    async def fetch(self, timeout: float, max_records: int) -> list[Message]:
        if self._ahead is None:
            self._ahead = asyncio.create_task(self._read(max_records))
        messages, read = await self._ahead
        # Reading and decoding the next ones overlaps with the database applying these.
        self._ahead = asyncio.create_task(self._read(max_records)) if messages else None
        self._done += read
        return messages

    async def _read(self, max_records: int) -> tuple[list[Message], int]:
        """The next messages, and how many stored events were read for them (a shard skips
        the other shards' events)."""
        read = 0
        for service, table in self._tables.items():
            while self._after[service] < self._target[service]:
                rows = await self._rows(table, service, max_records)
                if not rows:
                    self._after[service] = self._target[service]
                    break
                self._after[service] = rows[-1]["notification_id"]
                read += len(rows)
                messages = []
                for start in range(0, len(rows), DECODE_SLICE):
                    if start:
                        # Let the batch being applied send its next statement without waiting.
                        await asyncio.sleep(0)
                    messages += self._messages(service, rows[start : start + DECODE_SLICE])
                if messages:
                    return messages, read
        return [], read

    async def _rows(self, table: str, service: str, limit: int) -> list[asyncpg.Record]:
        assert self._conn is not None
        rows: list[asyncpg.Record] = await self._conn.fetch(
            "SELECT notification_id, originator_id, originator_version, topic, state"
            f" FROM {table} WHERE notification_id > $1 AND notification_id <= $2"
            " ORDER BY notification_id LIMIT $3",
            self._after[service], self._target[service], limit,
        )  # fmt: skip
        return rows

    def _messages(self, service: str, rows: Sequence[asyncpg.Record]) -> list[Message]:
        decode, shard = self._decode, self._shard
        messages = []
        for row in rows:
            if shard is None:
                fields = parsed(row["state"], decode)
            else:
                found = shares_fields(shard, row["state"], row["originator_id"], decode)
                if found is None:
                    continue
                fields = found
            messages.append(_message_of(service, row, untagged(fields, decode), decode))
        return messages

    async def caught_up(self) -> bool:
        if self._ahead is not None:
            if not self._ahead.done() or self._ahead.result()[0]:
                return False  # read, not yet handed over
            self._done += self._ahead.result()[1]  # read, and all another shard's
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

    async def end_offsets(self) -> dict[Partition, int]:
        return {}  # read by no request (see ProjectionRunner.hurry)

    def assignment(self) -> set[Partition]:
        return set()

    async def stop(self) -> None:
        if self._ahead is not None:
            self._ahead.cancel()
            await asyncio.gather(self._ahead, return_exceptions=True)
        if self._conn is not None:
            await self._conn.close()


def _message_of(
    service: str, row: asyncpg.Record, fields: dict[str, Any], decode: Decode
) -> Message:
    topic, offset = topic_for(service), row["notification_id"]
    envelope = envelope_of(
        service, row["originator_id"], row["originator_version"], row["topic"], fields,
        at=(topic, STORE_PARTITION, offset), decode=decode, position=offset,
    )  # fmt: skip
    # Decoded already: no bytes to make and read back (a dead letter gets the relay's bytes,
    # see the runner).
    return Message(topic, STORE_PARTITION, offset, envelope.key.encode(), None, (), envelope)
