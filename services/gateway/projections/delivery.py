"""Delivery: measurements against their targets, acknowledged gaps, and recovery plans with
the progress of their steps. Weighting by corporate priority is a view (see schema.py), so it
follows the latest ranking without rewriting these rows."""

from __future__ import annotations

from services.gateway.projections import expectations
from services.gateway.projections.routing import Handler, by_event
from services.gateway.projections.values import day, number
from shared.envelope import Envelope
from shared.pending_writes import Statements

SERVICE = "elicitation"


async def _measured(conn: Statements, e: Envelope) -> None:
    """The measurement as judged by the elicitation service: the event carries the judgement
    and the terms it was made on (an older one only the judgement: its terms are those of
    its revision, and the gap views upcast its relative shortfall)."""
    d = e.data
    terms = d
    if d.get("comparison") is None:
        terms = await expectations.terms_at(conn, d["expectation_id"], d["revision"])
    await conn.execute(
        "INSERT INTO measurements (measurement_id, contract_id, expectation_id, revision,"
        " comparison, target, target_upper, period_start, period_end, value, unit, source, met,"
        " shortfall, recorded_by, created_at, relative_shortfall)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        " ON CONFLICT (measurement_id) DO NOTHING",
        d["measurement_id"], d["contract_id"], d["expectation_id"], d["revision"],
        terms.get("comparison"), number(terms.get("target")), number(terms.get("target_upper")),
        day(d["period_start"]), day(d["period_end"]), number(d["value"]), d["unit"],
        d["source"], d["met"], number(d["shortfall"]), d["recorded_by"], e.time,
        number(d.get("relative_shortfall")),
    )  # fmt: skip


async def _gap(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO gaps (gap_id, contract_id, expectation_id, measurement_id, shortfall, unit,"
        " cause, acknowledged_by, steps_total, steps_completed, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, $9) ON CONFLICT (gap_id) DO NOTHING",
        d["gap_id"], d["contract_id"], d["expectation_id"], d["measurement_id"],
        number(d["shortfall"]), d["unit"], d["cause"], d["acknowledged_by"], e.time,
    )  # fmt: skip


async def _plan(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.executemany(
        "INSERT INTO recovery_steps (gap_id, step, contract_id, expectation_id, action, owner,"
        " due_on, completed) VALUES ($1, $2, $3, $4, $5, $6, $7, false)"
        " ON CONFLICT (gap_id, step) DO NOTHING",
        [
            (d["gap_id"], s["step"], d["contract_id"], d["expectation_id"], s["action"],
             s["owner"], day(s["due_on"]))
            for s in d["steps"]
        ],
    )  # fmt: skip
    await conn.execute(
        "UPDATE gaps SET plan_agreed_at = $2, agreed_with = $3, agreed_by = $4,"
        " revised_target = $5, revised_target_upper = $6, plan_revision = $7,"
        " steps_total = (SELECT count(*) FROM recovery_steps WHERE gap_id = $1)"
        " WHERE gap_id = $1",
        d["gap_id"], e.time, d["agreed_with"], d["agreed_by"], number(d["revised_target"]),
        number(d["revised_target_upper"]), d["revision"],
    )  # fmt: skip


async def _step_completed(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "UPDATE recovery_steps SET completed = true, note = $3, completed_by = $4,"
        " completed_at = $5 WHERE gap_id = $1 AND step = $2",
        d["gap_id"], d["step"], d["note"], d["completed_by"], e.time,
    )  # fmt: skip
    await conn.execute(
        "UPDATE gaps SET steps_completed ="
        " (SELECT count(*) FROM recovery_steps WHERE gap_id = $1 AND completed) WHERE gap_id = $1",
        d["gap_id"],
    )


_HANDLERS: dict[str, Handler] = {
    "MeasurementRecorded": _measured,
    "GapAcknowledged": _gap,
    "RecoveryPlanAgreed": _plan,
    "RecoveryStepCompleted": _step_completed,
}


# Apply a delivery event; any other event is ignored.
apply = by_event(SERVICE, _HANDLERS)
