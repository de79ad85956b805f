"""Time travel: a contract as it stood at an instant, rebuilt from its own events up to then.

The audit log holds every event of a contract with the instant it was recorded. To answer as
of an instant, the contract's events up to it are projected again, by the projector's own
handlers, into a scratch schema made inside one transaction; the gateway's own readers read it
there, and the transaction is rolled back. So no field can show a fact recorded after the
instant (no table of the present is read for it), each rule keeps its one home (the handlers
and the readers), and nothing is kept that could go stale.

Everything the contract's fields can load is read while the scratch schema exists, and handed
to the operation as DataLoaders of the field's own (`GatewayContext.scopes`, by the field's
response key): an expectation, a measurement, a gap below `contract(asOf:)` is as of then too.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast
from uuid import uuid4

import asyncpg
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from services.gateway import delivery, expectation_rows
from services.gateway.context import GatewayContext
from services.gateway.projections import audit, dispatch
from services.gateway.projections.schema import DDL
from services.gateway.types import jsonb
from shared.database import Connection
from shared.envelope import Envelope
from shared.pending_writes import PendingWrites

# A batch read: one list per key, as the DataLoaders take them (services.gateway.loading).
Batch = Callable[[asyncpg.Pool, Sequence[str]], Awaitable[list[list[Any]]]]

# The relations read by expectation id (an expectation's own fields that load, and the
# expectation a ranking's entry names).
BY_EXPECTATION: tuple[Batch, ...] = (
    delivery.measurements_of,
    delivery.gaps_of,
    expectation_rows.latest_by_id,
)

# A contract's events recorded up to an instant, in the audit log's one order: the same live
# and after any replay (arrival order is not), so a rebuild as of an instant is too.
EVENTS_UP_TO = (
    "SELECT * FROM audit_log WHERE contract_id = $1 AND occurred_at <= $2"
    f" ORDER BY {audit.ORDER_BY}"
)


def envelope_of(row: Any) -> Envelope:
    """The envelope an audit-log row was recorded from, as the projector received it."""
    return Envelope(
        id=row["event_id"], type=row["event_type"], source=row["source"],
        subject=row["subject"], time=row["occurred_at"], key=row["contract_id"],
        data=jsonb(row["data"]), actor_id=row["actor_id"], actor_role=row["actor_role"],
        correlation_id=row["correlation_id"], causation_id=row["causation_id"],
        sequence=row["sequence"], topic=row["topic"], partition=row["partition"],
        offset=row["offset"], position=row["log_position"],
    )  # fmt: skip


@dataclass
class Snapshot:
    """What a contract's fields can load, read from its rebuild as of an instant."""

    as_of: datetime
    # The contracts row, None if the contract was not opened yet at that instant.
    contract: Any
    # Each relation's answer by key (a contract's id, or an expectation's).
    relations: dict[Batch, dict[str, list[Any]]] = field(default_factory=dict)
    # What the caller asked `rebuilt` to read besides.
    found: Any = None
    # The events it was rebuilt from, and how long the rebuild took (seconds).
    events: int = 0
    seconds: float = 0.0

    def loaders(self) -> dict[Any, DataLoader[str, Any]]:
        """A DataLoader per relation, answering from the snapshot only: a key it did not read
        fails, never falling back on the present."""
        loaders: dict[Any, DataLoader[str, Any]] = {}
        for batch, answers in self.relations.items():
            loader: DataLoader[str, Any] = DataLoader(load_fn=_not_rebuilt(batch))
            loader.prime_many(answers)
            loaders[batch] = loader
        return loaders


def _not_rebuilt(batch: Batch) -> Callable[[list[str]], Awaitable[list[Any]]]:
    async def refuse(keys: list[str]) -> list[Any]:
        raise LookupError(f"{batch.__name__} of {keys} was not read from the rebuild")

    return refuse


async def rebuilt(
    pool: asyncpg.Pool,
    contract_id: str,
    as_of: datetime,
    relations: Sequence[Batch],
    *,
    read: Callable[[asyncpg.Pool], Awaitable[Any]] | None = None,
) -> Snapshot:
    """The contract as of `as_of`: its events up to then projected into a scratch schema,
    `relations` read from it for the contract and BY_EXPECTATION for each of its expectations
    (and `read`'s answer, kept as `found`), then everything rolled back."""
    [snapshot] = await rebuilt_at_each(pool, contract_id, [as_of], relations, read=read)
    return snapshot


async def rebuilt_at_each(
    pool: asyncpg.Pool,
    contract_id: str,
    instants: Sequence[datetime],
    relations: Sequence[Batch],
    *,
    read: Callable[[asyncpg.Pool], Awaitable[Any]] | None = None,
) -> list[Snapshot]:
    """The contract as of each instant (oldest first), from one scratch schema: its events
    projected up to the first instant and read as `rebuilt` reads them, then on up to the
    next, and so on; everything rolled back at the end. The events up to an instant are a
    prefix of the audit log's order (it starts with the instant recorded), and the projector
    applies a prefix in any batches alike, so each snapshot is the one `rebuilt` would make."""
    started = time.perf_counter()
    ordered = sorted(instants)
    snapshots: list[Snapshot] = []
    if not ordered:
        return snapshots
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            rows = await conn.fetch(EVENTS_UP_TO, contract_id, ordered[-1])
            events = [envelope_of(r) for r in rows]
            recorded = [e.time for e in events]
            scratch = f"asof_{uuid4().hex}"
            await conn.execute(f'CREATE SCHEMA "{scratch}"')
            await conn.execute(f'SET LOCAL search_path TO "{scratch}"')
            await conn.execute(DDL)
            projected = 0
            for as_of in ordered:
                upto = bisect.bisect_right(recorded, as_of, lo=projected)
                await _project(conn, events[projected:upto])
                projected = upto
                snapshot = await _read(conn, contract_id, as_of, relations, read)
                snapshot.events = upto
                snapshot.seconds = time.perf_counter() - started
                snapshots.append(snapshot)
        finally:
            await transaction.rollback()
    return snapshots


async def _read(
    conn: Connection,
    contract_id: str,
    as_of: datetime,
    relations: Sequence[Batch],
    read: Callable[[asyncpg.Pool], Awaitable[Any]] | None,
) -> Snapshot:
    """What the contract's fields can load, read from the scratch schema as it stands."""
    # The readers only fetch, which a connection does as a pool does.
    source = cast(asyncpg.Pool, conn)
    row = await conn.fetchrow("SELECT * FROM contracts WHERE contract_id = $1", contract_id)
    snapshot = Snapshot(as_of=as_of, contract=row)
    for batch in relations:
        snapshot.relations[batch] = {contract_id: (await batch(source, [contract_id]))[0]}
    expectations = [
        r["expectation_id"] for r in await conn.fetch("SELECT expectation_id FROM expectations")
    ]
    for batch in BY_EXPECTATION:
        answers = await batch(source, expectations)
        snapshot.relations[batch] = dict(zip(expectations, answers, strict=True))
    if read is not None:
        snapshot.found = await read(source)
    return snapshot


async def _project(conn: Connection, events: Sequence[Envelope]) -> None:
    """The events through the projector's batched handler, as a live batch applies them."""
    batching = dispatch.BATCHING
    writes = PendingWrites(conn, unordered=batching.unordered)
    if batching.prepare is not None:
        await batching.prepare(writes, events)
    for envelope in events:
        writes.begin(batching.order_key(envelope))
        await batching.apply(writes, envelope)
        writes.end()
    await writes.flush()


def scope(info: Info[GatewayContext, None], snapshot: Snapshot) -> None:
    """Answer the relations below the field being resolved from `snapshot`."""
    info.context.scopes[str(info.path.key)] = snapshot.loaders()
