"""Obligations: what the provider needs from the client, by when, and what became of it."""

from __future__ import annotations

from services.gateway.projections.routing import Handler, by_event
from services.gateway.projections.values import day, ids
from shared.envelope import Envelope
from shared.pending_writes import Statements

SERVICE = "elicitation"


async def _proposed(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO obligations (obligation_id, contract_id, what, needed_from, due_on,"
        " depends_on, proposed_by, status, version, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, 'proposed', $8, $9, $9)"
        " ON CONFLICT (obligation_id) DO NOTHING",
        d["obligation_id"], d["contract_id"], d["what"], d["needed_from"], day(d["due_on"]),
        ids(d["depends_on"]), d["proposed_by"], e.sequence, e.time,
    )  # fmt: skip


async def _update(conn: Statements, e: Envelope, assignments: str, *values: object) -> None:
    """Set `assignments` (using $4 onwards) and move the obligation to this event's version."""
    await conn.execute(
        f"UPDATE obligations SET version = $2, updated_at = $3, {assignments}"
        " WHERE obligation_id = $1",
        e.data["obligation_id"], e.sequence, e.time, *values,
    )  # fmt: skip


async def _accepted(conn: Statements, e: Envelope) -> None:
    await _update(
        conn, e, "status = 'accepted', decided_by = $4, decided_at = $3", e.data["accepted_by"]
    )


async def _declined(conn: Statements, e: Envelope) -> None:
    await _update(
        conn, e, "status = 'declined', decided_by = $4, decided_at = $3, decline_reason = $5",
        e.data["declined_by"], e.data["reason"],
    )  # fmt: skip


async def _fulfilled(conn: Statements, e: Envelope) -> None:
    await _update(
        conn, e, "status = 'fulfilled', fulfilled_by = $4, fulfilled_at = $3, fulfilment_note = $5",
        e.data["confirmed_by"], e.data["note"],
    )  # fmt: skip


async def _breached(conn: Statements, e: Envelope) -> None:
    # Breached can still turn into fulfilled later; the breach stays on the row either way.
    await _update(
        conn, e,
        "status = 'breached', breached_by = $4, breached_at = $3, breach_what_happened = $5,"
        " breach_impact = $6",
        e.data["declared_by"], e.data["what_happened"], e.data["impact"],
    )  # fmt: skip


_HANDLERS: dict[str, Handler] = {
    "ObligationProposed": _proposed,
    "ObligationAccepted": _accepted,
    "ObligationDeclined": _declined,
    "ObligationFulfilled": _fulfilled,
    "ObligationBreached": _breached,
}


# Apply an obligation event; any other event is ignored.
apply = by_event(SERVICE, _HANDLERS)
