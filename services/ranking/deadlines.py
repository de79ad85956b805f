"""Sessions that close on time: a view of ranking's own events keeps each open session's closing
time, and a worker closes every session whose time has come, publishing its corporate ranking.

The view is kept by the kernel's projection runner, so a deadline is recorded exactly once and
survives restarts; the close is an ordinary command (optimistic concurrency), so replicas may
all run the worker and a session still closes once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.ranking.closing import close_session
from services.ranking.errors import VotingError
from services.ranking.session_errors import VersionConflict
from shared.batches import BatchLoop
from shared.database import Connection
from shared.envelope import Envelope
from shared.runtime import ServiceRuntime

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


async def apply(conn: Connection, envelope: Envelope) -> None:
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
