"""The worker that raises each warning when it falls due, in the service that owns the item.

Any number of processes may run it: a warning's id is derived from what it warns of, so the
second process to raise it creates a stream that already exists, and the store refuses it.
Before raising, the worker asks the item's own aggregate whether the promise is still open,
so a promise kept after the view last looked is not warned about.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from eventsourcing.persistence import IntegrityError

from shared.batches import BatchLoop
from shared.deadlines.timers import Timers
from shared.deadlines.timing import MISSED, due_warning, warning_id
from shared.deadlines.warnings import ApproachingWarning, MissedWarning
from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Whether the promise a timer row watches is still open, asked of its aggregate.
StillOpen = Callable[[ServiceRuntime[Any], asyncpg.Record], Awaitable[bool]]
# A timer: a row of deadline_timers, or a mapping with its columns.
Timer = asyncpg.Record | Mapping[str, Any]

# Who the audit trail shows raising a warning.
SCHEDULER = "accord-scheduler"
SCHEDULER_ROLE = "scheduler"
POLL = 1.0
BATCH = 50


async def raise_due(
    runtime: ServiceRuntime[Any],
    pool: asyncpg.Pool,
    timers: Timers,
    still_open: StillOpen,
    now: datetime,
) -> int:
    """Raise every warning due at `now` (one batch); answers how many timers it looked at."""
    rows = await pool.fetch(
        "SELECT * FROM deadline_timers WHERE next_at <= $1 ORDER BY next_at LIMIT $2", now, BATCH
    )
    for row in rows:
        try:
            await _raise_one(runtime, pool, timers, still_open, row, now)
        except Exception:  # one item's trouble must not keep the others' warnings back
            log.exception("raising the deadline warning of %s failed", row["item_id"])
    return len(rows)


async def _raise_one(
    runtime: ServiceRuntime[Any],
    pool: asyncpg.Pool,
    timers: Timers,
    still_open: StillOpen,
    row: asyncpg.Record,
    now: datetime,
) -> None:
    async with pool.acquire() as conn:
        policy = await timers.policy(conn, row["contract_id"])
    threshold = due_warning(
        row["starts_at"], row["due_at"], policy.thresholds, [row["passed"]], now
    )
    if threshold is None:  # the policy moved it later
        async with pool.acquire() as conn:
            await timers.refresh(conn, row["item_id"], row["step"])
        return
    if not await still_open(runtime, row):
        # Kept just before the view learned of it: its own event will say how.
        async with pool.acquire() as conn:
            await timers.stop(conn, row["item_id"], "closed", row["step"])
        return
    raised = await raise_warning(runtime, row, threshold)
    if not raised:
        log.info("deadline warning %s of %s was raised already", threshold, row["item_id"])
    async with pool.acquire() as conn:
        await timers.passed(conn, row["item_id"], row["step"], threshold)


def store_warning(app: Any, timer: Timer, threshold: int) -> bool:
    """Store the warning of `threshold` (MISSED: the deadline) for a timer; False when another
    process (or an earlier run) stored it first."""
    # asyncpg's own UUID type is not one the event store knows how to store.
    item_id, contract_id = UUID(str(timer["item_id"])), UUID(str(timer["contract_id"]))
    fields: dict[str, Any] = {
        "warning_id": warning_id(timer["kind"], item_id, timer["step"], timer["due_at"], threshold),
        "contract_id": contract_id,
        "kind": timer["kind"],
        "item_id": item_id,
        "step": timer["step"] or None,
        "starts_at": timer["starts_at"],
        "due_at": timer["due_at"],
        "owner": timer["owner"],
    }
    warning: ApproachingWarning | MissedWarning
    if threshold >= MISSED:
        warning = MissedWarning(**fields)
    else:
        warning = ApproachingWarning(threshold=threshold, **fields)
    try:
        app.save(warning)
    except IntegrityError:
        return False
    return True


async def raise_warning(runtime: ServiceRuntime[Any], timer: Timer, threshold: int) -> bool:
    """Store one warning as the scheduler, off the event loop; False if it was raised before."""
    raised: bool = await runtime.execute(
        store_warning, runtime.app, timer, threshold,
        actor_id=SCHEDULER, actor_role=SCHEDULER_ROLE,
    )  # fmt: skip
    return raised


async def warn_when_due(
    runtime: ServiceRuntime[Any],
    pool: asyncpg.Pool,
    timers: Timers,
    still_open: StillOpen,
    clock: Clock,
) -> None:
    """Until cancelled: raise each warning when `clock` says it is due."""

    async def step() -> int:
        return await raise_due(runtime, pool, timers, still_open, clock())

    loop = BatchLoop("raising deadline warnings", step, batch_size=BATCH, idle_seconds=POLL)
    await loop.run()
