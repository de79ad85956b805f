"""What delivery against an expectation leaves on the record: measurements, gaps, recovery."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from services.elicitation import inputs
from services.elicitation.errors import InvalidChoice


@dataclass(frozen=True)
class Measurement:
    """A value measured for one period, judged against the terms of the revision then in force."""

    measurement_id: UUID
    revision: int
    period_start: date
    period_end: date
    value: Decimal
    source: str
    met: bool
    shortfall: Decimal
    recorded_by: str


@dataclass(frozen=True)
class PlannedStep:
    """One step of a recovery plan as proposed: what, who owns it, by when."""

    action: str
    owner: str
    due_on: date | str

    @classmethod
    def parse(cls, raw: PlannedStep | Mapping[str, Any]) -> PlannedStep:
        if isinstance(raw, PlannedStep):
            return raw
        unknown = sorted(set(raw) - {"action", "owner", "due_on"})
        if unknown:
            raise InvalidChoice("steps", unknown[0], ["action", "owner", "due_on"])
        return cls(
            action=raw.get("action") or "",
            owner=raw.get("owner") or "",
            due_on=raw.get("due_on") or "",
        )

    def as_event_data(self, step: int) -> dict[str, Any]:
        return {
            "step": step,
            "action": inputs.text("action", self.action),
            "owner": inputs.label("owner", self.owner),
            "due_on": inputs.a_date("due_on", self.due_on),
        }


@dataclass(frozen=True)
class RecoveryStep:
    """A step of an agreed recovery plan, numbered from 1."""

    step: int
    action: str
    owner: str
    due_on: date
    completed: bool = False
    note: str = ""
    completed_by: str = ""

    @classmethod
    def from_event_data(cls, data: Mapping[str, Any]) -> RecoveryStep:
        return cls(
            step=data["step"], action=data["action"], owner=data["owner"], due_on=data["due_on"]
        )

    def completed_with(self, note: str, by: str) -> RecoveryStep:
        return replace(self, completed=True, note=note, completed_by=by)


@dataclass(frozen=True)
class Gap:
    """A shortfall the provider acknowledged, and the recovery plan agreed for it."""

    gap_id: UUID
    measurement_id: UUID
    shortfall: Decimal
    cause: str
    acknowledged_by: str
    steps: tuple[RecoveryStep, ...] = ()
    agreed_with: str = ""
    revised_target: Decimal | None = None
    revised_target_upper: Decimal | None = None

    @property
    def has_plan(self) -> bool:
        return bool(self.steps)

    @property
    def recovered(self) -> bool:
        """Every step of the agreed plan is done."""
        return self.has_plan and all(step.completed for step in self.steps)
