"""Contract health in GraphQL: `Contract.health` (the score and its parts, now or as of the
instant `contract(id, asOf:)` rebuilt), and `healthTrend` (the score as of each period's end).

The facts are read from the read models (health_rows_of, a relation like any other of the
contract, so a rebuild as of an instant reads it from there); the score is
health_score.health of them, at the instant the answer is for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import strawberry
from pydantic import TypeAdapter, ValidationError
from strawberry.types import Info

from services.gateway import time_travel
from services.gateway.access import role_on
from services.gateway.context import GatewayContext
from services.gateway.health_score import (
    ATTAINMENT_POINTS,
    POINTS_EACH,
    Facts,
    HealthPartName,
    Measured,
    health,
)
from services.gateway.ids import id_argument
from services.gateway.loading import load
from services.gateway.protection import Refused
from shared.deadlines.timing import due_at_end_of

HealthPartEnum = strawberry.enum(
    HealthPartName,
    name="HealthPart",
    description="The facts a contract's health is made of (docs/graphql.md, Contract health).",
)

# The most periods a trend rebuilds the contract for (each is one rebuild).
MOST_PERIODS = 24
_DURATION = TypeAdapter(timedelta)


@dataclass(frozen=True)
class HealthRows:
    """What a contract's health is computed from, as read; dated items are judged overdue
    against the instant asked for (`facts`)."""

    measured: tuple[Measured, ...]
    gaps_without_plan: tuple[str, ...]
    # (item, due day) of each accepted, unsettled obligation and each uncompleted recovery step
    dated: tuple[tuple[str, date], ...]
    unacknowledged_risks: tuple[str, ...]
    missed_deadlines: tuple[str, ...]
    open_suspect_links: tuple[str, ...]

    def facts(self, at: datetime) -> Facts:
        overdue = tuple(item for item, day in self.dated if due_at_end_of(day) < at)
        return Facts(
            measured=self.measured,
            gaps_without_plan=self.gaps_without_plan,
            overdue_obligations=overdue,
            unacknowledged_risks=self.unacknowledged_risks,
            missed_deadlines=self.missed_deadlines,
            open_suspect_links=self.open_suspect_links,
        )


_OPEN = "e.status NOT IN ('withdrawn', 'merged')"
# Each query answers (contract_id, item, ...) for the contracts asked.
_MEASURED = (
    "SELECT e.contract_id, e.expectation_id AS item, g.met, coalesce(g.weight, 1) AS weight,"
    " (NOT g.met AND (gp.gap_id IS NULL OR gp.plan_agreed_at IS NULL)) AS without_plan"
    " FROM expectations e JOIN expectation_gaps g ON g.expectation_id = e.expectation_id"
    " LEFT JOIN gaps gp ON gp.gap_id = g.gap_id"
    f" WHERE e.contract_id = ANY($1::text[]) AND {_OPEN} ORDER BY e.expectation_id"
)
_DATED = (
    "SELECT contract_id, obligation_id AS item, due_on FROM obligations"
    " WHERE contract_id = ANY($1::text[]) AND status = 'accepted'"
    " UNION ALL SELECT contract_id, gap_id || '#' || step, due_on FROM recovery_steps"
    " WHERE contract_id = ANY($1::text[]) AND NOT completed ORDER BY 2"
)
_UNACKNOWLEDGED = (
    "SELECT contract_id, risk_id AS item FROM risks WHERE contract_id = ANY($1::text[])"
    " AND status <> 'resolved' AND NOT acknowledged ORDER BY risk_id"
)
_MISSED = (
    "SELECT contract_id, CASE WHEN step = 0 THEN item_id ELSE item_id || '#' || step END AS item"
    " FROM deadline_warnings WHERE contract_id = ANY($1::text[]) AND missed ORDER BY 2"
)
_SUSPECT = (
    "SELECT contract_id, flag_id AS item FROM suspect_links"
    " WHERE contract_id = ANY($1::text[]) AND outcome IS NULL ORDER BY flag_id"
)


def _by_contract(rows: Sequence[Any], ids: Sequence[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {key: [] for key in ids}
    for row in rows:
        found[row["contract_id"]].append(row)
    return found


async def health_rows_of(pool: asyncpg.Pool, ids: Sequence[str]) -> list[list[HealthRows]]:
    """Each contract's health facts (one HealthRows each), five queries for them all."""
    keys = list(ids)
    measured = _by_contract(await pool.fetch(_MEASURED, keys), keys)
    dated = _by_contract(await pool.fetch(_DATED, keys), keys)
    risks = _by_contract(await pool.fetch(_UNACKNOWLEDGED, keys), keys)
    missed = _by_contract(await pool.fetch(_MISSED, keys), keys)
    suspect = _by_contract(await pool.fetch(_SUSPECT, keys), keys)
    return [
        [
            HealthRows(
                measured=tuple(Measured(r["item"], r["weight"], r["met"]) for r in measured[key]),
                gaps_without_plan=tuple(r["item"] for r in measured[key] if r["without_plan"]),
                dated=tuple((r["item"], r["due_on"]) for r in dated[key]),
                unacknowledged_risks=tuple(r["item"] for r in risks[key]),
                missed_deadlines=tuple(r["item"] for r in missed[key]),
                open_suspect_links=tuple(r["item"] for r in suspect[key]),
            )
        ]
        for key in keys
    ]


@strawberry.type(description="One part of a contract's health: what it counts and what it cost.")
class HealthPartScore:
    part: HealthPartName
    count: int = strawberry.field(
        description="How many items it counts (for ATTAINMENT, the measured expectations that"
        " missed their terms)."
    )
    points_lost: int = strawberry.field(description="The points of the score it cost.")
    points_each: int | None = strawberry.field(
        description="What each item costs; null for ATTAINMENT, which costs up to"
        f" {ATTAINMENT_POINTS} by the share of weight that missed."
    )
    items: list[str] = strawberry.field(
        description="The items counted: expectation, obligation, risk, deadline item or suspect"
        " flag ids (a recovery step as `gapId#step`)."
    )


@strawberry.type(
    description="A contract's health: 100 less the points each part lost, never below 0."
    " Formula and example: docs/graphql.md, Contract health."
)
class ContractHealth:
    score: int = strawberry.field(description="From 0 (every alarm) to 100 (nothing amiss).")
    attainment: Decimal | None = strawberry.field(
        description="The share of the measured expectations' corporate weight (1 each while"
        " unranked) whose latest measurement met its terms, 0 to 1; null while none is measured."
    )
    as_of: datetime = strawberry.field(description="The instant the score is for.")
    parts: list[HealthPartScore]


def contract_health(rows: HealthRows, at: datetime) -> ContractHealth:
    """The score of `rows` at the instant `at` (what is overdue depends on it)."""
    found = health(rows.facts(at))
    return ContractHealth(
        score=found.score,
        attainment=found.attainment,
        as_of=at,
        parts=[
            HealthPartScore(
                part=p.name,
                count=len(p.items),
                points_lost=p.points_lost,
                points_each=POINTS_EACH.get(p.name),
                items=list(p.items),
            )
            for p in found.parts
        ],
    )


async def health_of(
    info: Info[GatewayContext, None], contract_id: str, as_of: datetime | None
) -> ContractHealth:
    """The contract's health now, or as of the instant its answer was rebuilt for."""
    loading = load(info, health_rows_of, contract_id)
    [rows] = loading if isinstance(loading, list) else await loading
    return contract_health(rows, as_of or datetime.now(UTC))


def period_ends(now: datetime, periods: int, every: timedelta) -> list[datetime]:
    """The end of each of the last `periods` periods of length `every`, oldest first, the
    last one `now`; an end before the first instant a datetime holds is left out (nothing
    was recorded then)."""
    ends = []
    for back in range(periods - 1, -1, -1):
        try:
            ends.append(now - every * back)
        except OverflowError:
            continue
    return ends


@strawberry.type
class HealthQueries:
    @strawberry.field(
        description="The contract's health as of the end of each of the last `periods` periods"
        " of length `every` (ISO 8601), oldest first, the last one now; each rebuilt from the"
        " events recorded up to then, as `contract(id, asOf:)` is. Instants before the"
        f" contract was opened are left out. At most {MOST_PERIODS} periods."
    )
    async def health_trend(
        self,
        info: Info[GatewayContext, None],
        contract_id: strawberry.ID,
        periods: int = 6,
        every: timedelta = timedelta(days=7),
    ) -> list[ContractHealth]:
        ctx = info.context
        key = id_argument(contract_id, "contractId")
        try:
            step = _DURATION.validate_python(every)
        except ValidationError:
            raise Refused("BAD_USER_INPUT", f"every is not an ISO 8601 duration: {every}") from None
        if not 1 <= periods <= MOST_PERIODS or step <= timedelta(0):
            raise Refused(
                "BAD_USER_INPUT",
                f"periods runs from 1 to {MOST_PERIODS}, and every is longer than nothing",
            )
        await role_on(ctx, key)
        trend: list[ContractHealth] = []
        ends = period_ends(datetime.now(UTC), periods, step)
        # One rebuild, read at each period's end in turn (not one rebuild per period).
        for snapshot in await time_travel.rebuilt_at_each(ctx.pool, key, ends, [health_rows_of]):
            if snapshot.contract is None:
                continue
            [rows] = snapshot.relations[health_rows_of][key]
            trend.append(contract_health(rows, snapshot.as_of))
        return trend
