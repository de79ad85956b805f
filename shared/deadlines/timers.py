"""A service's timers: the view, kept from its own events, of each dated promise it owns
(when it was made, when it is due, how far its warnings got, whether it stopped), and each
contract's deadline policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from shared.deadlines.timing import DEFAULT_THRESHOLDS, next_warning
from shared.pending_writes import Statements

SCHEMA = """
CREATE TABLE IF NOT EXISTS deadline_timers (
    item_id uuid NOT NULL,
    -- a recovery step's number; 0 for an item that has no steps
    step int NOT NULL DEFAULT 0,
    kind text NOT NULL,
    contract_id uuid NOT NULL,
    -- the aggregate that says whether the promise is still open when a warning falls due
    aggregate_id uuid NOT NULL,
    owner text NOT NULL,
    -- NULL until the promise is made (an obligation accepted, an expectation committed)
    starts_at timestamptz,
    due_at timestamptz NOT NULL,
    -- the highest threshold already raised (or overtaken); 100 once the deadline passed
    passed int NOT NULL DEFAULT 0,
    -- why the timer stopped (fulfilled, completed, acknowledged...); NULL while it runs
    stopped text,
    -- when the next warning falls due; NULL when none will
    next_at timestamptz,
    PRIMARY KEY (item_id, step)
);
CREATE INDEX IF NOT EXISTS deadline_timers_next ON deadline_timers (next_at)
    WHERE next_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS deadline_policies (
    contract_id uuid PRIMARY KEY,
    thresholds int[] NOT NULL,
    acknowledgement_seconds double precision NOT NULL
);
"""


@dataclass(frozen=True)
class DeadlinePolicy:
    """A contract's thresholds (percent of the time) and its risks' acknowledgement window."""

    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    acknowledgement_window: timedelta = timedelta(days=3)


class Timers:
    """The timer view's changes; `defaults` is the policy of a contract that set none."""

    def __init__(self, defaults: DeadlinePolicy) -> None:
        self.defaults = defaults

    async def policy(self, conn: Statements, contract_id: UUID) -> DeadlinePolicy:
        row = await conn.fetchrow(
            "SELECT thresholds, acknowledgement_seconds FROM deadline_policies"
            " WHERE contract_id = $1",
            contract_id,
        )
        if row is None:
            return self.defaults
        return DeadlinePolicy(
            tuple(row["thresholds"]), timedelta(seconds=row["acknowledgement_seconds"])
        )

    async def set_policy(
        self,
        conn: Statements,
        contract_id: UUID,
        thresholds: Sequence[int],
        acknowledgement_window: timedelta,
    ) -> None:
        """A contract's new policy; its running timers' next warnings move with it."""
        await conn.execute(
            "INSERT INTO deadline_policies VALUES ($1, $2, $3) ON CONFLICT (contract_id)"
            " DO UPDATE SET thresholds = excluded.thresholds,"
            " acknowledgement_seconds = excluded.acknowledgement_seconds",
            contract_id, list(thresholds), acknowledgement_window.total_seconds(),
        )  # fmt: skip
        rows = await conn.fetch(
            "SELECT item_id, step FROM deadline_timers WHERE contract_id = $1"
            " AND stopped IS NULL AND starts_at IS NOT NULL",
            contract_id,
        )
        for row in rows:
            await self.refresh(conn, row["item_id"], row["step"])

    async def track(
        self,
        conn: Statements,
        *,
        kind: str,
        item_id: UUID,
        contract_id: UUID,
        aggregate_id: UUID,
        owner: str,
        due_at: datetime,
        starts_at: datetime | None = None,
        step: int = 0,
    ) -> None:
        """A dated promise, made now (`starts_at`) or later (see `start`); tracking it again
        (new terms) starts it afresh."""
        await conn.execute(
            "INSERT INTO deadline_timers"
            " (item_id, step, kind, contract_id, aggregate_id, owner, starts_at, due_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (item_id, step) DO UPDATE SET"
            " owner = excluded.owner, starts_at = excluded.starts_at, due_at = excluded.due_at,"
            " passed = 0, stopped = NULL, next_at = NULL",
            item_id, step, kind, contract_id, aggregate_id, owner, starts_at, due_at,
        )  # fmt: skip
        await self.refresh(conn, item_id, step)

    async def start(
        self, conn: Statements, item_id: UUID, starts_at: datetime, owner: str = "", step: int = 0
    ) -> None:
        """The promise was made (accepted, committed): its time runs from now."""
        await conn.execute(
            "UPDATE deadline_timers SET starts_at = $3, owner = coalesce(nullif($4, ''), owner)"
            " WHERE item_id = $1 AND step = $2 AND stopped IS NULL",
            item_id, step, starts_at, owner,
        )  # fmt: skip
        await self.refresh(conn, item_id, step)

    async def stop(self, conn: Statements, item_id: UUID, why: str, step: int = 0) -> None:
        """The promise was kept (or withdrawn) in time: no warning after this."""
        await conn.execute(
            "UPDATE deadline_timers SET stopped = $3, next_at = NULL"
            " WHERE item_id = $1 AND step = $2 AND stopped IS NULL",
            item_id, step, why,
        )  # fmt: skip

    async def stop_all(self, conn: Statements, item_id: UUID, why: str) -> None:
        """Every timer of an item (each step of a plan) stops."""
        await conn.execute(
            "UPDATE deadline_timers SET stopped = $2, next_at = NULL"
            " WHERE item_id = $1 AND stopped IS NULL",
            item_id, why,
        )  # fmt: skip

    async def forget(self, conn: Statements, item_id: UUID, step: int = 0) -> None:
        await conn.execute(
            "DELETE FROM deadline_timers WHERE item_id = $1 AND step = $2", item_id, step
        )

    async def passed(self, conn: Statements, item_id: UUID, step: int, threshold: int) -> None:
        """A warning was raised (here or by another process): the next one is the one after."""
        await conn.execute(
            "UPDATE deadline_timers SET passed = greatest(passed, $3)"
            " WHERE item_id = $1 AND step = $2",
            item_id, step, threshold,
        )  # fmt: skip
        await self.refresh(conn, item_id, step)

    async def refresh(self, conn: Statements, item_id: UUID, step: int) -> None:
        """Set when the timer's next warning falls due, by its contract's policy."""
        row = await conn.fetchrow(
            "SELECT contract_id, starts_at, due_at, passed, stopped FROM deadline_timers"
            " WHERE item_id = $1 AND step = $2",
            item_id, step,
        )  # fmt: skip
        if row is None:
            return
        next_at = None
        if row["stopped"] is None and row["starts_at"] is not None:
            policy = await self.policy(conn, row["contract_id"])
            coming = next_warning(
                row["starts_at"], row["due_at"], policy.thresholds, [row["passed"]]
            )
            next_at = coming[1] if coming else None
        await conn.execute(
            "UPDATE deadline_timers SET next_at = $3 WHERE item_id = $1 AND step = $2",
            item_id, step, next_at,
        )  # fmt: skip
