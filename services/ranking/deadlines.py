"""Sessions that close on time: a view of ranking's own events keeps each open session's closing
time, and a worker closes every session whose time has come, publishing its corporate ranking.
Before that, a second view keeps each session's deadline timer (shared/deadlines), and its
worker warns the session's owner at the contract's thresholds (DeadlineApproaching), and
once more if the closing time passed with the session still open (DeadlineMissed).

The view is kept by the kernel's projection runner, so a deadline is recorded exactly once and
survives restarts; the close is an ordinary command (optimistic concurrency), so replicas may
all run the worker and a session still closes once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from services.ranking.closing import close_session
from services.ranking.errors import VotingError
from services.ranking.session_errors import VersionConflict
from shared.batches import BatchLoop
from shared.deadlines import timers as deadline_timers
from shared.deadlines.timers import DeadlinePolicy, Timers
from shared.deadlines.timing import MISSED, DeadlineKind
from shared.deadlines.worker import Clock, warn_when_due
from shared.envelope import Envelope
from shared.pending_writes import Statements
from shared.projection import Batching, in_arrival_order
from shared.runtime import ServiceRuntime
from shared.service_app import View
from shared.settings import Settings

log = logging.getLogger(__name__)

TOPICS = ("accord.ranking.v1",)

SCHEMA = """
CREATE TABLE IF NOT EXISTS session_deadlines (
    session_id uuid PRIMARY KEY,
    closes_at timestamptz NOT NULL
);
"""

# Who the audit trail shows closing a session at its deadline.
SCHEDULER = "accord-scheduler"
SCHEDULER_ROLE = "scheduler"
# How often the worker looks for sessions whose time has come, and how many it closes at once.
POLL = 1.0
BATCH = 50


async def apply(conn: Statements, envelope: Envelope) -> None:
    """Record a session's closing time when it opens; forget it once the session closed."""
    name = envelope.spec.name
    if name == "PrioritizationOpened" and envelope.data.get("closes_at"):
        await conn.execute(
            "INSERT INTO session_deadlines VALUES ($1, $2) ON CONFLICT (session_id) DO NOTHING",
            UUID(envelope.subject),
            datetime.fromisoformat(str(envelope.data["closes_at"])),
        )
    elif name == "PrioritizationClosed":
        await conn.execute(
            "DELETE FROM session_deadlines WHERE session_id = $1", UUID(envelope.subject)
        )


BATCHING = Batching(apply, in_arrival_order)


async def close_when_due(runtime: ServiceRuntime[Any], pool: asyncpg.Pool) -> None:
    """Until cancelled: close each session whose closing time has passed."""

    async def close_due() -> int:
        due = await pool.fetch(
            "SELECT session_id FROM session_deadlines WHERE closes_at <= now()"
            " ORDER BY closes_at LIMIT $1",
            BATCH,
        )
        for row in due:
            try:
                await close_one(runtime, pool, row["session_id"])
            except Exception:  # one session's trouble must not stop the others closing
                log.exception("closing session %s on time failed", row["session_id"])
        return len(due)

    loop = BatchLoop("closing sessions on time", close_due, batch_size=BATCH, idle_seconds=POLL)
    await loop.run()


async def close_one(runtime: ServiceRuntime[Any], pool: asyncpg.Pool, session_id: UUID) -> None:
    session = await runtime.executor.run(runtime.app.session, session_id)
    if session.closed:
        return  # its PrioritizationClosed event will clear the deadline
    try:
        await close_session(runtime, pool, session, SCHEDULER, SCHEDULER_ROLE, session.version)
    except VersionConflict:
        return  # a vote or another replica came first: the next round looks again
    except VotingError as refused:
        # Nothing to count (no votes): it stays closed to votes, with no ranking to publish.
        log.warning("session %s passed its closing time unclosed: %s", session_id, refused)
        await pool.execute("DELETE FROM session_deadlines WHERE session_id = $1", session_id)


# The timers learn each contract's deadline policy from elicitation, which declares it.
WARNING_TOPICS = ("accord.ranking.v1", "accord.elicitation.v1")
# The acknowledgement window travels as an ISO 8601 duration.
_DURATION = TypeAdapter(timedelta)


class WarningView:
    """Each session's deadline timer and the worker that warns of it, by `clock`."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.timers = Timers(
            DeadlinePolicy(
                tuple(settings.deadline_thresholds),
                timedelta(hours=settings.risk_acknowledgement_hours),
            )
        )
        self.clock = clock

    @property
    def view(self) -> View:
        return View(
            "deadline-warnings", WARNING_TOPICS, deadline_timers.SCHEMA, self.apply,
            Batching(self.apply, in_arrival_order), for_scheduler=True,
        )  # fmt: skip

    async def apply(self, conn: Statements, envelope: Envelope) -> None:
        name, data = envelope.spec.name, envelope.data
        service = envelope.type.split(".")[1]
        if service == "elicitation":
            if name == "DeadlinePolicySet":
                window = _DURATION.validate_python(data["acknowledgement_window"])
                await self.timers.set_policy(
                    conn, UUID(str(data["contract_id"])), data["thresholds"], window
                )
            return
        if name == "PrioritizationOpened" and data.get("closes_at"):
            session = UUID(envelope.subject)
            await self.timers.track(
                conn, kind=DeadlineKind.PRIORITIZATION, item_id=session,
                contract_id=UUID(str(data["contract_id"])), aggregate_id=session,
                owner=str(data["opened_by"]), starts_at=envelope.time,
                due_at=datetime.fromisoformat(str(data["closes_at"])),
            )  # fmt: skip
        elif name == "PrioritizationClosed":
            await self.timers.stop(conn, UUID(envelope.subject), "closed")
        elif name in ("DeadlineApproaching", "DeadlineMissed"):
            threshold = int(data.get("threshold") or MISSED)
            await self.timers.passed(conn, UUID(str(data["item_id"])), 0, threshold)

    async def still_open(self, runtime: ServiceRuntime[Any], row: asyncpg.Record) -> bool:
        session = await runtime.executor.run(runtime.app.session, row["aggregate_id"])
        return not session.closed

    async def worker(self, runtime: ServiceRuntime[Any], pool: asyncpg.Pool) -> None:
        """Until cancelled: warn of each session's closing time when a threshold comes."""
        await warn_when_due(runtime, pool, self.timers, self.still_open, self.clock)
