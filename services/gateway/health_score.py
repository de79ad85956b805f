"""A contract's health: one score from 0 to 100 and the parts it is made of, a pure function of
facts Accord holds (no I/O here; services/gateway/health.py reads the facts). The formula, with
an example, is in docs/graphql.md, "Contract health".

Each part loses points: delivery against the measured expectations (up to ATTAINMENT_POINTS,
by how much of their corporate weight fell short), and a fixed number per item of each other
kind. The score is 100 less the points lost, never below 0; so every part shows how many
points it cost, and a person sees why the score moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class HealthPartName(StrEnum):
    """The facts a contract's health is made of."""

    ATTAINMENT = "attainment"
    GAPS_WITHOUT_PLAN = "gaps_without_plan"
    OVERDUE_OBLIGATIONS = "overdue_obligations"
    UNACKNOWLEDGED_RISKS = "unacknowledged_risks"
    MISSED_DEADLINES = "missed_deadlines"
    OPEN_SUSPECT_LINKS = "open_suspect_links"


# The most that delivery against the measured expectations can cost.
ATTAINMENT_POINTS = 40
# What each item of the other parts costs: a gap nobody plans to close weighs most.
POINTS_EACH: dict[HealthPartName, int] = {
    HealthPartName.GAPS_WITHOUT_PLAN: 10,
    HealthPartName.OVERDUE_OBLIGATIONS: 5,
    HealthPartName.UNACKNOWLEDGED_RISKS: 5,
    HealthPartName.MISSED_DEADLINES: 5,
    HealthPartName.OPEN_SUSPECT_LINKS: 2,
}


@dataclass(frozen=True)
class Measured:
    """One open expectation's latest measurement: whether it met its terms, and the weight of
    the expectation in the corporate ranking (1 while it is unranked)."""

    expectation_id: str
    weight: int
    met: bool


@dataclass(frozen=True)
class Facts:
    """What the score is computed from: the measured expectations, and the items of each
    counted part (by id, so a person can find them)."""

    measured: tuple[Measured, ...] = ()
    gaps_without_plan: tuple[str, ...] = ()
    overdue_obligations: tuple[str, ...] = ()
    unacknowledged_risks: tuple[str, ...] = ()
    missed_deadlines: tuple[str, ...] = ()
    open_suspect_links: tuple[str, ...] = ()

    def items(self, part: HealthPartName) -> tuple[str, ...]:
        """The ids a counted part is made of (for ATTAINMENT, the expectations that missed)."""
        if part is HealthPartName.ATTAINMENT:
            return tuple(m.expectation_id for m in self.measured if not m.met)
        found: tuple[str, ...] = getattr(self, part.value)
        return found


@dataclass(frozen=True)
class Part:
    name: HealthPartName
    items: tuple[str, ...]
    points_lost: int


@dataclass(frozen=True)
class Health:
    score: int
    # The share of the measured expectations' weight that met its terms; None if none measured.
    attainment: Decimal | None
    parts: tuple[Part, ...]


def attainment(measured: tuple[Measured, ...]) -> Decimal | None:
    """Σ weight of the expectations that met their terms / Σ weight of those measured."""
    total = sum(m.weight for m in measured)
    if not total:
        return None
    return Decimal(sum(m.weight for m in measured if m.met)) / Decimal(total)


def _points(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def health(facts: Facts) -> Health:
    """The score and its parts (see the module's docstring)."""
    share = attainment(facts.measured)
    shortfall = Decimal(0) if share is None else 1 - share
    parts = [
        Part(
            HealthPartName.ATTAINMENT,
            facts.items(HealthPartName.ATTAINMENT),
            _points(ATTAINMENT_POINTS * shortfall),
        )
    ]
    for name, each in POINTS_EACH.items():
        items = facts.items(name)
        parts.append(Part(name, items, each * len(items)))
    score = max(0, 100 - sum(p.points_lost for p in parts))
    rounded = None if share is None else share.quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return Health(score=score, attainment=rounded, parts=tuple(parts))
