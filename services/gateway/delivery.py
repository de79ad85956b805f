"""Delivery against an expectation: its measurements, the gaps acknowledged, and their recovery
plans with each step; read a whole answer's expectations at a time (one query per relation)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import strawberry
from strawberry.types import Info

from services.gateway import deadlines
from services.gateway.context import GatewayContext
from services.gateway.loading import grouped
from shared.commands.elicitation import Comparison
from shared.deadlines.timing import DeadlineKind


@strawberry.type(description="One value measured for a period, judged against the terms then.")
class Measurement:
    id: strawberry.ID = strawberry.field(description="What acknowledgeGap takes.")
    expectation_id: strawberry.ID = strawberry.field(description="The expectation measured.")
    revision: int = strawberry.field(
        description="The expectation's revision whose terms judged it."
    )
    comparison: Comparison | None = strawberry.field(description="That revision's comparison.")
    target: Decimal | None = strawberry.field(description="That revision's target.")
    target_upper: Decimal | None = strawberry.field(
        description="That revision's upper bound, for a range."
    )
    period_start: date = strawberry.field(description="The period measured, from.")
    period_end: date = strawberry.field(description="The period measured, to.")
    value: Decimal = strawberry.field(description="The value measured, as written.")
    unit: str = strawberry.field(description="The unit of value, target and shortfall.")
    source: str = strawberry.field(description="Where the value comes from (a report...).")
    met: bool = strawberry.field(description="Whether the value met the target.")
    shortfall: Decimal = strawberry.field(
        description="How far it fell short, as the elicitation service computed it (0 if met)."
    )
    recorded_by: str = strawberry.field(description="Who recorded it.")
    recorded_at: datetime = strawberry.field(description="When it was recorded.")
    gap_id: strawberry.ID | None = strawberry.field(
        description="The gap acknowledged for this shortfall; null while none is."
    )


@strawberry.type(
    description="One step of a recovery plan: what, who owns it, by when, done or not."
)
class RecoveryStep:
    step: int = strawberry.field(description="Its number in the plan, from 1.")
    action: str = strawberry.field(description="What will be done.")
    owner: str = strawberry.field(description="The participant who carries it out.")
    due_on: date = strawberry.field(description="By when.")
    completed: bool = strawberry.field(description="Whether it is done.")
    note: str | None = strawberry.field(description="What the person said on completing it.")
    completed_by: str | None = strawberry.field(description="Who completed it; null until then.")
    completed_at: datetime | None = strawberry.field(
        description="When it was completed; null until then."
    )
    # The gap whose plan holds it: its deadline's warnings name the gap and the step.
    gap_id: strawberry.Private[str] = ""

    @strawberry.field(description=deadlines.DESCRIPTION)
    async def deadline(self, info: Info[GatewayContext, None]) -> deadlines.Deadline | None:
        return await deadlines.deadline(
            info, DeadlineKind.RECOVERY_STEP, self.gap_id, deadlines.end_of(self.due_on),
            open=not self.completed, step=self.step,
        )  # fmt: skip


@strawberry.type(description="The recovery plan agreed with the client for a gap.")
class RecoveryPlan:
    agreed_with: str = strawberry.field(
        description="The client decision maker the plan was agreed with."
    )
    agreed_by: str = strawberry.field(description="Who agreed it, for the provider.")
    agreed_at: datetime = strawberry.field(description="When it was agreed.")
    revised_target: Decimal | None = strawberry.field(
        description="The target both sides agreed to instead; null if it stays."
    )
    revised_target_upper: Decimal | None = strawberry.field(
        description="The revised upper bound, for a range; null otherwise."
    )
    revision: int | None = strawberry.field(
        description="The expectation's revision that carries the revised target."
    )
    steps: list[RecoveryStep] = strawberry.field(description="Its steps, in order.")
    steps_completed: int = strawberry.field(description="How many of its steps are completed.")
    recovered: bool = strawberry.field(description="True once every step is completed.")


@strawberry.type(description="A shortfall the provider acknowledged, its cause and its recovery.")
class Gap:
    id: strawberry.ID = strawberry.field(
        description="What agreeRecoveryPlan and completeRecoveryStep take."
    )
    expectation_id: strawberry.ID = strawberry.field(description="The expectation that fell short.")
    measurement_id: strawberry.ID = strawberry.field(description="The measurement that fell short.")
    shortfall: Decimal = strawberry.field(
        description="How far the measurement fell short, in the unit."
    )
    unit: str = strawberry.field(description="The unit of the shortfall.")
    cause: str = strawberry.field(description="The cause the provider gave.")
    acknowledged_by: str = strawberry.field(description="Who acknowledged it, for the provider.")
    acknowledged_at: datetime = strawberry.field(description="When it was acknowledged.")
    recovery_plan: RecoveryPlan | None = strawberry.field(description="Null until one is agreed.")


def _measurement(r: Any) -> Measurement:
    comparison = r["comparison"]
    return Measurement(
        id=strawberry.ID(r["measurement_id"]), expectation_id=r["expectation_id"],
        revision=r["revision"], comparison=None if comparison is None else Comparison(comparison),
        target=r["target"], target_upper=r["target_upper"], period_start=r["period_start"],
        period_end=r["period_end"], value=r["value"], unit=r["unit"], source=r["source"],
        met=r["met"], shortfall=r["shortfall"], recorded_by=r["recorded_by"],
        recorded_at=r["created_at"], gap_id=r["gap_id"],
    )  # fmt: skip


async def measurements_of(pool: asyncpg.Pool, keys: Sequence[str]) -> list[list[Measurement]]:
    """Each expectation's measurements, newest period first."""
    rows = await pool.fetch(
        "SELECT m.*, g.gap_id FROM measurements m"
        " LEFT JOIN gaps g ON g.measurement_id = m.measurement_id"
        " WHERE m.expectation_id = ANY($1::text[])"
        " ORDER BY m.period_end DESC, m.period_start DESC, m.created_at DESC, m.measurement_id",
        list(keys),
    )
    return grouped(keys, rows, _measurement, by="expectation_id")


async def gaps_of(pool: asyncpg.Pool, keys: Sequence[str]) -> list[list[Gap]]:
    """Each expectation's acknowledged gaps, oldest first, with their plans and steps."""
    rows = await pool.fetch(
        "SELECT * FROM gaps WHERE expectation_id = ANY($1::text[]) ORDER BY created_at, gap_id",
        list(keys),
    )
    steps = await pool.fetch(
        "SELECT * FROM recovery_steps WHERE gap_id = ANY($1::text[]) ORDER BY gap_id, step",
        [r["gap_id"] for r in rows],
    )
    by_gap: dict[str, list[RecoveryStep]] = {}
    for s in steps:
        by_gap.setdefault(s["gap_id"], []).append(
            RecoveryStep(
                step=s["step"],
                action=s["action"],
                owner=s["owner"],
                due_on=s["due_on"],
                completed=s["completed"],
                note=s["note"],
                completed_by=s["completed_by"],
                completed_at=s["completed_at"],
                gap_id=s["gap_id"],
            )
        )

    def gap(r: Any) -> Gap:
        plan = None
        if r["plan_agreed_at"] is not None:
            plan = RecoveryPlan(
                agreed_with=r["agreed_with"], agreed_by=r["agreed_by"],
                agreed_at=r["plan_agreed_at"], revised_target=r["revised_target"],
                revised_target_upper=r["revised_target_upper"], revision=r["plan_revision"],
                steps=by_gap.get(r["gap_id"], []), steps_completed=r["steps_completed"],
                recovered=r["recovered"],
            )  # fmt: skip
        return Gap(
            id=strawberry.ID(r["gap_id"]), expectation_id=r["expectation_id"],
            measurement_id=r["measurement_id"], shortfall=r["shortfall"], unit=r["unit"],
            cause=r["cause"], acknowledged_by=r["acknowledged_by"],
            acknowledged_at=r["created_at"], recovery_plan=plan,
        )  # fmt: skip

    return grouped(keys, rows, gap, by="expectation_id")
