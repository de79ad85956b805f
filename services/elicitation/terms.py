"""Measurable terms of an expectation, and whether a measured value meets them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from services.elicitation import inputs
from services.elicitation.errors import (
    DeadlineAndRecurrence,
    DeadlineBeforeContractStart,
    InvalidChoice,
    RangeBoundUnexpected,
    TargetNotNumeric,
    TargetRangeInverted,
)
from shared.commands.elicitation import Comparison, Recurrence

# Relative shortfalls are kept to a millionth, as every amount a read model holds.
MILLIONTH = Decimal("0.000001")


@dataclass(frozen=True)
class Judgement:
    """A measured value against the terms: met, and if not, by how much it fell short."""

    met: bool
    # In the terms' unit, from the bound the value missed (the nearer one of a range);
    # zero when met.
    shortfall: Decimal
    # The shortfall as a share of the size of that bound, so that shortfalls in different
    # units compare: 0.5 is half the bound again. See relative_shortfall().
    relative_shortfall: Decimal


def relative_shortfall(shortfall: Decimal, bound: Decimal) -> Decimal:
    """`shortfall` divided by the size of the bound it is measured from, to a millionth and
    written without an exponent. A bound of zero has no size to share: one unit stands for it,
    so "at most 0 incidents" missed by 3 is a relative shortfall of 3."""
    scale = abs(bound) or Decimal(1)
    # Wide enough for any amount over a millionth (a quotient below 10^22, six places).
    with localcontext(prec=40):
        share = (shortfall / scale).quantize(MILLIONTH).normalize()
    # 0.500000 is 0.5 and 10.000000 is 10 (normalize alone would write 1E+1).
    return Decimal(format(share, "f"))


@dataclass(frozen=True)
class MeasurableTerms:
    """What makes an expectation measurable. Refinement fills these in over several versions,
    so any of them may be missing; values that are present are always valid."""

    metric: str = ""
    comparison: Comparison | None = None
    # The target, or the lower bound of a range.
    target: Decimal | None = None
    # The upper bound, for `within_range` only.
    target_upper: Decimal | None = None
    unit: str = ""
    deadline: date | None = None
    recurrence: Recurrence | None = None
    measurement_method: str = ""
    measured_by: str = ""

    def __post_init__(self) -> None:
        if self.target_upper is not None and self.comparison is not Comparison.WITHIN_RANGE:
            raise RangeBoundUnexpected(self.comparison)
        if (
            self.target is not None
            and self.target_upper is not None
            and self.target > self.target_upper
        ):
            raise TargetRangeInverted(self.target, self.target_upper)
        if self.deadline is not None and self.recurrence is not None:
            raise DeadlineAndRecurrence()

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> MeasurableTerms:
        """Terms from what a person typed in (JSON-like); blank means not given yet."""
        allowed = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise InvalidChoice("terms", unknown[0], allowed)

        def given(name: str) -> Any:
            value = raw.get(name)
            return (
                None if value is None or (isinstance(value, str) and not value.strip()) else value
            )

        comparison, recurrence = given("comparison"), given("recurrence")
        target, upper, deadline = given("target"), given("target_upper"), given("deadline")
        return cls(
            metric=inputs.optional_text("metric", raw.get("metric"), limit=inputs.LABEL_LIMIT),
            comparison=None
            if comparison is None
            else inputs.choice("comparison", comparison, Comparison),
            target=None
            if target is None
            else inputs.number("target", target, error=TargetNotNumeric),
            target_upper=None
            if upper is None
            else inputs.number("target_upper", upper, error=TargetNotNumeric),
            unit=inputs.optional_text("unit", raw.get("unit"), limit=inputs.LABEL_LIMIT),
            deadline=None if deadline is None else inputs.a_date("deadline", deadline),
            recurrence=None
            if recurrence is None
            else inputs.choice("recurrence", recurrence, Recurrence),
            measurement_method=inputs.optional_text(
                "measurement_method", raw.get("measurement_method")
            ),
            measured_by=inputs.optional_text(
                "measured_by", raw.get("measured_by"), limit=inputs.LABEL_LIMIT
            ),
        )

    def missing_for_measurable(self) -> list[str]:
        """What is still needed before the expectation is measurable (empty when it is)."""
        missing = []
        if not self.metric:
            missing.append("metric")
        if self.comparison is None:
            missing.append("comparison")
        if self.target is None:
            missing.append("target")
        if self.comparison is Comparison.WITHIN_RANGE and self.target_upper is None:
            missing.append("target_upper")
        if not self.unit:
            missing.append("unit")
        if not self.measurement_method:
            missing.append("measurement_method")
        return missing

    @property
    def is_measurable(self) -> bool:
        return not self.missing_for_measurable()

    def check_deadline(self, contract_starts_on: date) -> None:
        if self.deadline is not None and self.deadline < contract_starts_on:
            raise DeadlineBeforeContractStart(self.deadline, contract_starts_on)

    def judge(self, value: Decimal) -> Judgement:
        """Whether `value` meets the target, and by how much it falls short (the formulas are
        in docs/graphql.md, "Gap analysis"); only for measurable terms."""
        target = self.target
        assert target is not None and self.comparison is not None, "judged unmeasurable terms"
        bound = target
        if self.comparison is Comparison.AT_LEAST:
            shortfall = max(target - value, Decimal(0))
        elif self.comparison is Comparison.AT_MOST:
            shortfall = max(value - target, Decimal(0))
        elif self.comparison is Comparison.EQUAL:
            shortfall = abs(value - target)
        else:
            upper = self.target_upper
            assert upper is not None
            # Measured from the nearer bound: above the range, from its upper bound.
            if value > upper:
                bound = upper
            shortfall = max(target - value, value - upper, Decimal(0))
        return Judgement(
            met=shortfall == 0,
            shortfall=shortfall,
            relative_shortfall=relative_shortfall(shortfall, bound),
        )

    def with_target(self, target: Decimal, target_upper: Decimal | None) -> MeasurableTerms:
        """The same terms with a revised target (as agreed in a recovery plan)."""
        return replace(self, target=target, target_upper=target_upper)

    def as_event_data(self) -> dict[str, Any]:
        """Plain values for a stored event (and the published contract's `terms`)."""
        return {
            "metric": self.metric,
            "comparison": None if self.comparison is None else self.comparison.value,
            "target": self.target,
            "target_upper": self.target_upper,
            "unit": self.unit,
            "deadline": self.deadline,
            "recurrence": None if self.recurrence is None else self.recurrence.value,
            "measurement_method": self.measurement_method,
            "measured_by": self.measured_by,
        }

    @classmethod
    def from_event_data(cls, data: Mapping[str, Any]) -> MeasurableTerms:
        comparison, recurrence = data.get("comparison"), data.get("recurrence")
        return cls(
            metric=data.get("metric") or "",
            comparison=None if comparison is None else Comparison(comparison),
            target=data.get("target"),
            target_upper=data.get("target_upper"),
            unit=data.get("unit") or "",
            deadline=data.get("deadline"),
            recurrence=None if recurrence is None else Recurrence(recurrence),
            measurement_method=data.get("measurement_method") or "",
            measured_by=data.get("measured_by") or "",
        )
