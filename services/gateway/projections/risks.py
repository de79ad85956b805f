"""Risks with their acknowledgements and remedial actions; lessons and preventive actions."""

from __future__ import annotations

from services.gateway.projections.routing import Handler, by_event
from services.gateway.projections.values import day, ids
from shared.envelope import Envelope
from shared.pending_writes import Statements

SERVICE = "elicitation"


async def _disclosed(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO risks (risk_id, contract_id, kind, title, description, likelihood, impact,"
        " affected_expectations, prepare_for, disclosed_by, acknowledged, status, version,"
        " created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, false, 'open', $11, $12, $12)"
        " ON CONFLICT (risk_id) DO NOTHING",
        d["risk_id"], d["contract_id"], d["kind"], d["title"], d["description"],
        d["likelihood"], d["impact"], ids(d["affected_expectations"]), d["prepare_for"],
        d["disclosed_by"], e.sequence, e.time,
    )  # fmt: skip


async def _moved(conn: Statements, e: Envelope) -> None:
    await conn.execute(
        "UPDATE risks SET version = $2, updated_at = $3 WHERE risk_id = $1",
        e.data["risk_id"], e.sequence, e.time,
    )  # fmt: skip


async def _acknowledged(conn: Statements, e: Envelope) -> None:
    d = e.data
    # Each decision maker confirms for themself; the first one makes the disclosure count.
    await conn.execute(
        "INSERT INTO risk_acknowledgements (risk_id, acknowledged_by, contract_id, created_at)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        d["risk_id"], d["acknowledged_by"], d["contract_id"], e.time,
    )  # fmt: skip
    await conn.execute(
        "UPDATE risks SET acknowledged = true,"
        " first_acknowledged_at = coalesce(first_acknowledged_at, $2) WHERE risk_id = $1",
        d["risk_id"], e.time,
    )  # fmt: skip
    await _moved(conn, e)


async def _remedial_action(conn: Statements, e: Envelope) -> None:
    d = e.data
    # The event id names the action: it is derived from the risk's id and version, so stable.
    await conn.execute(
        "INSERT INTO remedial_actions (action_id, risk_id, contract_id, action, taken_by,"
        " created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (action_id) DO NOTHING",
        e.id, d["risk_id"], d["contract_id"], d["action"], d["taken_by"], e.time,
    )  # fmt: skip
    await _moved(conn, e)


async def _resolved(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "UPDATE risks SET status = 'resolved', resolution = $2, resolved_by = $3,"
        " resolved_at = $4 WHERE risk_id = $1",
        d["risk_id"], d["resolution"], d["resolved_by"], e.time,
    )  # fmt: skip
    await _moved(conn, e)


async def _lesson(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO lessons (lesson_id, contract_id, lesson, risk_ids, expectation_ids,"
        " learned_by, created_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (lesson_id) DO NOTHING",
        d["lesson_id"], d["contract_id"], d["lesson"], ids(d["risk_ids"]),
        ids(d["expectation_ids"]), d["learned_by"], e.time, e.sequence,
    )  # fmt: skip


async def _preventive_action(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO preventive_actions (action_id, lesson_id, contract_id, action, owner,"
        " due_on, planned_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (action_id) DO NOTHING",
        d["action_id"], d["lesson_id"], d["contract_id"], d["action"], d["owner"],
        day(d["due_on"]), d["planned_by"], e.time,
    )  # fmt: skip
    await conn.execute(
        "UPDATE lessons SET version = greatest(version, $2) WHERE lesson_id = $1",
        d["lesson_id"], e.sequence,
    )  # fmt: skip


_HANDLERS: dict[str, Handler] = {
    "RiskDisclosed": _disclosed,
    "RiskAcknowledged": _acknowledged,
    "RemedialActionTaken": _remedial_action,
    "RiskResolved": _resolved,
    "LessonLearned": _lesson,
    "PreventiveActionPlanned": _preventive_action,
}


# Apply a risk or lesson event; any other event is ignored.
apply = by_event(SERVICE, _HANDLERS)
