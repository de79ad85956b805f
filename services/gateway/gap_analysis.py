"""The gap analysis: each open expectation's latest measured period against its terms, weighted
by the contract's corporate priority, the top two flagged when they fall short.

Whether a value met its terms, and by how much it fell short, is the elicitation service's to
say (services/elicitation/terms.py); the measurements carry it, and nothing here judges again.
What this adds is the weighting, which needs ranking's priorities: the views in
projections/schema.py. The formulas are in docs/graphql.md, "Gap analysis".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import strawberry

from services.gateway.loading import grouped
from shared.commands.elicitation import Comparison

_BY_TERMS = "in the terms the latest measurement was judged against (those of its revision)"


@strawberry.type(
    description="One open expectation's delivery against its terms: its latest measured period,"
    " weighted by the contract's corporate priority. The gap analysis lists one per expectation"
    " that is neither withdrawn nor merged, in corporate priority order (unranked ones last);"
    " the measurement fields are null until one is recorded. Formulas: docs/graphql.md, Gap"
    " analysis."
)
class GapEntry:
    expectation_id: strawberry.ID = strawberry.field(description="The expectation.")
    text: str = strawberry.field(description="What it says, in its latest revision.")
    priority: int | None = strawberry.field(
        description="Its place in the contract's latest corporate ranking, 1 first; null while"
        " it is unranked."
    )
    weight: int | None = strawberry.field(
        description="How much its shortfall counts: the number ranked minus `priority` plus 1,"
        " so that the first of n counts n and the last 1; null while it is unranked."
    )
    flagged: bool = strawberry.field(
        description="True when the latest measurement missed its target and the expectation is"
        " one of the top two of the corporate ranking: a shortfall there is what loses a"
        " contract, so show it loudest. False when met, unranked, lower or never measured."
    )
    met: bool | None = strawberry.field(
        description="Whether the latest measurement met the terms; null if none was recorded."
    )
    measurement_id: strawberry.ID | None = strawberry.field(
        description="The latest measurement: what acknowledgeGap takes; null if none."
    )
    period_start: date | None = strawberry.field(description="The period it measured, from.")
    period_end: date | None = strawberry.field(description="The period it measured, to.")
    comparison: Comparison | None = strawberry.field(
        description=f"How the value is compared with the target, {_BY_TERMS}."
    )
    target: Decimal | None = strawberry.field(
        description=f"The target, or the lower bound of a WITHIN_RANGE range, {_BY_TERMS}."
    )
    target_upper: Decimal | None = strawberry.field(
        description="The upper bound of a WITHIN_RANGE range (so 15..30 is target 15,"
        " targetUpper 30); null for the other comparisons."
    )
    value: Decimal | None = strawberry.field(description="The value measured.")
    unit: str | None = strawberry.field(description="The unit of value, target and shortfall.")
    shortfall: Decimal | None = strawberry.field(
        description="How far the value fell short, in the unit, as the elicitation service"
        " judged it: AT_LEAST target - value, AT_MOST value - target, EQUAL |value - target|,"
        " WITHIN_RANGE the distance to the nearer bound; 0 when met."
    )
    relative_shortfall: Decimal | None = strawberry.field(
        description="The shortfall divided by the size of the bound it is measured from (the"
        " target; the upper bound for a value above a range), to a millionth: 0.5 is half the"
        " bound again, comparable across units. A bound of zero counts as one unit, so"
        " there it equals the shortfall."
    )
    weighted_shortfall: Decimal | None = strawberry.field(
        description="weight times relativeShortfall: what to sort and compare shortfalls by across"
        " a contract; 0 when met, null while unranked or never measured."
    )
    gap_id: strawberry.ID | None = strawberry.field(
        description="The gap acknowledged for the latest measurement: what agreeRecoveryPlan"
        " and completeRecoveryStep take; null while none is."
    )
    gap_acknowledged: bool = strawberry.field(
        description="Whether the provider acknowledged the latest measurement's shortfall."
    )
    recovery_steps_total: int = strawberry.field(
        description="The steps of that gap's recovery plan; 0 while none is agreed."
    )
    recovery_steps_completed: int = strawberry.field(
        description="How many of those steps are completed."
    )


def _entry(r: Any) -> GapEntry:
    comparison, measurement, gap = r["comparison"], r["measurement_id"], r["gap_id"]
    return GapEntry(
        expectation_id=r["expectation_id"], text=r["text"], priority=r["position"],
        weight=r["weight"], flagged=bool(r["flagged"]), met=r["met"],
        measurement_id=None if measurement is None else strawberry.ID(measurement),
        period_start=r["period_start"], period_end=r["period_end"],
        comparison=None if comparison is None else Comparison(comparison),
        target=r["target"], target_upper=r["target_upper"], value=r["value"], unit=r["unit"],
        shortfall=r["shortfall"], relative_shortfall=r["relative_shortfall"],
        weighted_shortfall=r["weighted_shortfall"],
        gap_id=None if gap is None else strawberry.ID(gap), gap_acknowledged=gap is not None,
        recovery_steps_total=r["steps_total"], recovery_steps_completed=r["steps_completed"],
    )  # fmt: skip


async def gap_analyses(pool: asyncpg.Pool, ids: Sequence[str]) -> list[list[GapEntry]]:
    """Each contract's gap analysis, in the order asked (one query for them all)."""
    rows = await pool.fetch(
        "SELECT e.contract_id, e.expectation_id, e.text, g.weight, g.flagged, g.met,"
        " g.measurement_id, g.period_start, g.period_end, g.comparison, g.target,"
        " g.target_upper, g.value, g.unit, g.shortfall, g.relative_shortfall,"
        " g.weighted_shortfall, g.gap_id, coalesce(gp.steps_total, 0) AS steps_total,"
        " coalesce(gp.steps_completed, 0) AS steps_completed, p.position"
        " FROM expectations e"
        " LEFT JOIN expectation_gaps g ON g.expectation_id = e.expectation_id"
        " LEFT JOIN gaps gp ON gp.gap_id = g.gap_id"
        " LEFT JOIN corporate_priorities p ON p.expectation_id = e.expectation_id"
        " WHERE e.contract_id = ANY($1::text[]) AND e.status NOT IN ('withdrawn', 'merged')"
        " ORDER BY p.position NULLS LAST, e.created_at, e.expectation_id",
        list(ids),
    )
    return grouped(ids, rows, _entry, by="contract_id")
