"""Assumptions as AssumptionRecorded carries them: one row each, never changed."""

from __future__ import annotations

from services.gateway.projections.routing import Handler, by_event
from shared.envelope import Envelope
from shared.pending_writes import Statements

SERVICE = "elicitation"

SCHEMA = """
CREATE TABLE IF NOT EXISTS assumptions (
    assumption_id text PRIMARY KEY,
    contract_id text NOT NULL,
    text text NOT NULL,
    why text NOT NULL,
    recorded_by text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS assumptions_keyset
    ON assumptions (contract_id, created_at, assumption_id);
"""

TABLES = ("assumptions",)


async def _recorded(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO assumptions VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (assumption_id) DO NOTHING",
        d["assumption_id"], d["contract_id"], d["text"], d["why"], d["recorded_by"], e.time,
    )  # fmt: skip


_HANDLERS: dict[str, Handler] = {"AssumptionRecorded": _recorded}

# Apply an assumption's event; any other event is ignored.
apply = by_event(SERVICE, _HANDLERS)
