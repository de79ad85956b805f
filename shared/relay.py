"""The outbox relay: a service's notification log, in order, onto its Kafka topic."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

import asyncpg
from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from shared.audit.chain import GENESIS
from shared.batches import BatchLoop
from shared.bus import Publisher
from shared.envelope import Envelope, StoredCopy, data_bytes
from shared.event_ids import event_id
from shared.eventstore import StoreExecutor
from shared.provenance import provenance_of
from shared.schemas import registry
from shared.schemas.registry import topic_for

log = logging.getLogger(__name__)

# Fields of every stored event that belong to the library, never to the published contract.
_LIBRARY_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic", "_meta"}


def envelope_of(app: Application[Any], service: str, notification: Notification) -> Envelope:
    """The published envelope of one stored event, by its registered contract."""
    event = app.mapper.to_domain_event(notification)
    fields = vars(event)
    meta = provenance_of(event)
    # The event class's version (the library's class_version) is its contract's version, so
    # events stored before a v2 still publish as the v1 they were.
    version = getattr(type(event), "class_version", 1)
    spec = registry.lookup(f"accord.{service}.{type(event).__name__}.v{version}")
    published = {k: v for k, v in fields.items() if k not in _LIBRARY_FIELDS}
    # Every contract's events carry the contract they belong to, though not every event stores it.
    published.setdefault("contract_id", meta.get("contract_id"))
    data = spec.to_data(published)
    subject = str(fields["originator_id"])
    chain_hash, previous_hash = chain_of(notification)
    return Envelope(
        id=event_id(fields["originator_id"], fields["originator_version"]),
        type=spec.ce_type,
        source=f"/accord/{service}",
        subject=subject,
        time=fields["timestamp"],
        key=meta.get("contract_id") or subject,
        data=data,
        actor_id=meta.get("actor_id", ""),
        actor_role=meta.get("actor_role", ""),
        correlation_id=meta.get("correlation_id", ""),
        causation_id=meta.get("causation_id", ""),
        traceparent=meta.get("traceparent", ""),
        sequence=fields["originator_version"],
        chain_hash=chain_hash,
        previous_hash=previous_hash,
        position=notification.id,
    )


def chain_of(notification: Notification) -> tuple[str, str]:
    """The event's stored hash and its predecessor's (hex), or blanks for one unchained."""
    stored = getattr(notification, "hash", None)
    if stored is None:
        return "", ""
    previous = getattr(notification, "previous_hash", None) or GENESIS
    return stored.hex(), previous.hex()


# How far past its batch the relay reads for a fact's missing copies: this many batches.
_READ_ON = 8


def published_records(envelopes: Sequence[Envelope]) -> tuple[list[Envelope], bool]:
    """The records to publish for stored events in log order: one per fact. A fact stored on
    several aggregates (its contract's `stored_on`) is published once, from the stream its
    first field names, carrying the other stored events as its copies.

    Also answers whether every such fact met all its copies here (they are stored in one
    transaction, so reading on completes them); a fact left incomplete is published as its
    stored events were, one record each, so nothing is lost."""
    groups: dict[tuple[str, bytes], list[Envelope]] = {}
    for envelope in envelopes:
        if envelope.spec.stored_on:
            groups.setdefault((envelope.type, data_bytes(envelope.data)), []).append(envelope)
    folded: dict[str, tuple[StoredCopy, ...]] = {}
    dropped: set[str] = set()
    complete = True
    for members in groups.values():
        data, fields = members[0].data, members[0].spec.stored_on
        by_subject = {m.subject: m for m in members}
        if set(by_subject) != {str(data[f]) for f in fields} or len(members) != len(fields):
            complete = False
            continue
        first = by_subject[str(data[fields[0]])]
        folded[first.id] = tuple(_copy(m) for m in members if m is not first)
        dropped.update(m.id for m in members if m is not first)
    records = [
        replace(e, copies=folded[e.id]) if e.id in folded else e
        for e in envelopes
        if e.id not in dropped
    ]
    return records, complete


def _copy(envelope: Envelope) -> StoredCopy:
    return StoredCopy(
        id=envelope.id, subject=envelope.subject, sequence=envelope.sequence,
        position=envelope.position, time=envelope.time, hash=envelope.chain_hash,
        prevhash=envelope.previous_hash,
    )  # fmt: skip


class Positions(Protocol):
    """Where the relay got to in the notification log."""

    async def load(self) -> int: ...

    async def save(self, position: int) -> None: ...


class MemoryPositions:
    """For a bus that does not survive a restart: start from the beginning each time."""

    def __init__(self) -> None:
        self._position = 0

    async def load(self) -> int:
        return self._position

    async def save(self, position: int) -> None:
        self._position = position


class PostgresPositions:
    """The last published notification id, in the service's own schema. Read from the table
    once; after that the relay knows it (it alone, as the service's leader, writes it)."""

    def __init__(self, pool: asyncpg.Pool, relay: str) -> None:
        self._pool = pool
        self._relay = relay
        self._known: int | None = None

    async def create_table(self) -> None:
        await self._pool.execute(
            "CREATE TABLE IF NOT EXISTS outbox_positions"
            " (relay text PRIMARY KEY, position bigint NOT NULL)"
        )

    async def load(self) -> int:
        if self._known is None:
            value = await self._pool.fetchval(
                "SELECT position FROM outbox_positions WHERE relay = $1", self._relay
            )
            self._known = int(value or 0)
        return self._known

    async def save(self, position: int) -> None:
        try:
            await self._pool.execute(
                "INSERT INTO outbox_positions (relay, position) VALUES ($1, $2)"
                " ON CONFLICT (relay) DO UPDATE SET position = excluded.position",
                self._relay,
                position,
            )
        except BaseException:
            # Cancelled or failed before the answer came: the row may hold either position.
            # The next load reads it again, so the known position is never behind the table.
            self._known = None
            raise
        self._known = position  # only once stored: never ahead of the table


class OutboxRelay:
    """Publishes stored events in notification order; at least once, never lost."""

    def __init__(
        self,
        app: Application[Any],
        service: str,
        publisher: Publisher,
        positions: Positions,
        executor: StoreExecutor,
        *,
        batch_size: int = 200,
        idle_seconds: float = 0.2,
        publish_timeout_seconds: float = 30.0,
    ) -> None:
        self.app = app
        self.service = service
        self.topic = topic_for(service)
        self.publisher = publisher
        self.positions = positions
        self.executor = executor
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.publish_timeout_seconds = publish_timeout_seconds
        self.published = 0
        # On a publishing error, e.g. OutOfOrderSequenceNumber after a broker blip leaves the
        # idempotent producer stuck: a new producer, resuming from the recorded position.
        self._loop = BatchLoop(
            f"relay {service}", self.publish_next_batch, batch_size=batch_size,
            idle_seconds=idle_seconds, on_failure=self._reset_publisher,
        )  # fmt: skip

    @property
    def last_error(self) -> str:
        return self._loop.last_error

    def wake(self) -> None:
        """Look at the log now rather than at the next poll (called after each command)."""
        self._loop.wake()

    async def publish_next_batch(self) -> int:
        """Publish what follows the recorded position; record the new position; count it."""
        position = await self.positions.load()
        limit = self.batch_size
        while True:
            notifications: Sequence[Notification] = await self.executor.run(
                self.app.recorder.select_notifications,
                position,
                limit,
                inclusive_of_start=False,
            )
            if not notifications:
                return 0
            envelopes = [envelope_of(self.app, self.service, n) for n in notifications]
            records, complete = published_records(envelopes)
            # A fact's copies are stored together: the batch may have cut between them. A copy
            # missing for good (a store tampered with) is not read on for past a few batches.
            if complete or len(notifications) < limit or limit >= _READ_ON * self.batch_size:
                break
            limit *= 2
        # A producer that cannot reach the broker may wait forever; a deadline makes it an error.
        async with asyncio.timeout(self.publish_timeout_seconds):
            await self.publisher.publish(self.topic, records)
        # A crash here republishes this batch on restart; consumers drop repeats by ce_id.
        await self.positions.save(notifications[-1].id)
        self.published += len(envelopes)
        return len(envelopes)

    async def run(self) -> None:
        """Relay until cancelled; on any publishing error recreate the producer and resume."""
        await self._loop.run()

    async def _reset_publisher(self) -> None:
        try:
            await self.publisher.reset()
        except Exception as error:
            log.warning("relay %s: producer could not restart: %s", self.service, error)
