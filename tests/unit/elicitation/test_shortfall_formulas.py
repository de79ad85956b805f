"""How far a measured value falls short of its terms: the formulas of docs/graphql.md ("Gap
analysis"), as the Expectation aggregate applies them, for every comparison and any amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.elicitation.terms import Judgement, MeasurableTerms, relative_shortfall
from shared.commands.elicitation import Comparison
from shared.values import MAX_DECIMAL_PLACES, MAX_MAGNITUDE

# Any amount a command may carry: below a quadrillion, to a millionth.
AMOUNT = st.decimals(
    min_value=-MAX_MAGNITUDE + 1,
    max_value=MAX_MAGNITUDE - 1,
    places=MAX_DECIMAL_PLACES,
    allow_nan=False,
    allow_infinity=False,
)
# Everyday amounts, zero among them often.
SMALL = st.sampled_from([Decimal(0), Decimal("0.0"), Decimal(1)]) | st.decimals(
    min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False
)
NUMBER = AMOUNT | SMALL
MILLIONTH = Decimal("0.000001")


def terms(comparison: Comparison, target: Decimal, upper: Decimal | None = None) -> MeasurableTerms:
    return MeasurableTerms(comparison=comparison, target=target, target_upper=upper)


def judged(comparison: Comparison, target: Decimal, value: Decimal) -> Judgement:
    return terms(comparison, target).judge(value)


def within(low: Decimal, high: Decimal, value: Decimal) -> Judgement:
    return terms(Comparison.WITHIN_RANGE, low, high).judge(value)


def close_to_the_share(judgement: Judgement, bound: Decimal) -> bool:
    """The relative shortfall is the shortfall over the bound's size, to a millionth."""
    scale = abs(bound) or Decimal(1)
    return abs(judgement.relative_shortfall * scale - judgement.shortfall) <= MILLIONTH * scale


@given(target=NUMBER, value=NUMBER)
def test_at_least_falls_short_by_what_is_missing_below_the_target(
    target: Decimal, value: Decimal
) -> None:
    judgement = judged(Comparison.AT_LEAST, target, value)
    assert judgement.shortfall == max(target - value, 0)
    assert judgement.met is (value >= target)
    assert close_to_the_share(judgement, target)


@given(target=NUMBER, value=NUMBER)
def test_at_most_falls_short_by_what_is_over_the_target(target: Decimal, value: Decimal) -> None:
    judgement = judged(Comparison.AT_MOST, target, value)
    assert judgement.shortfall == max(value - target, 0)
    assert judgement.met is (value <= target)
    assert close_to_the_share(judgement, target)


@given(target=NUMBER, value=NUMBER)
def test_at_most_is_at_least_seen_in_a_mirror(target: Decimal, value: Decimal) -> None:
    assert judged(Comparison.AT_MOST, target, value) == judged(Comparison.AT_LEAST, -target, -value)


@given(target=NUMBER, value=NUMBER)
def test_equal_falls_short_by_the_distance_either_way(target: Decimal, value: Decimal) -> None:
    judgement = judged(Comparison.EQUAL, target, value)
    assert judgement.shortfall == abs(value - target)
    assert judgement.met is (value == target)
    assert close_to_the_share(judgement, target)


@given(bounds=st.lists(NUMBER, min_size=2, max_size=2).map(sorted), value=NUMBER)
def test_a_range_falls_short_from_its_nearer_bound(bounds: list[Decimal], value: Decimal) -> None:
    low, high = bounds
    judgement = within(low, high, value)
    # Below the range it is "at least the lower bound", above it "at most the upper bound".
    nearer = judged(Comparison.AT_LEAST, low, value) if value < low else None
    nearer = nearer or judged(Comparison.AT_MOST, high, value)
    assert judgement == nearer
    assert judgement.met is (low <= value <= high)


@given(target=NUMBER, value=NUMBER, comparison=st.sampled_from(list(Comparison)))
def test_a_shortfall_is_never_negative_and_is_zero_exactly_when_met(
    target: Decimal, value: Decimal, comparison: Comparison
) -> None:
    upper = target if comparison is Comparison.WITHIN_RANGE else None
    judgement = terms(comparison, target, upper).judge(value)
    assert judgement.shortfall >= 0 and judgement.relative_shortfall >= 0
    assert judgement.met is (judgement.shortfall == 0)
    if judgement.met:
        assert judgement.relative_shortfall == 0


@given(shortfall=AMOUNT.map(abs), bound=NUMBER)
def test_a_relative_shortfall_is_written_out_to_a_millionth_at_most(
    shortfall: Decimal, bound: Decimal
) -> None:
    share = relative_shortfall(shortfall, bound)
    written = str(share)
    assert "E" not in written and "e" not in written
    places = len(written.partition(".")[2])
    assert places <= MAX_DECIMAL_PLACES and not written.endswith(".")
    assert places == 0 or not written.endswith("0")  # 0.5, never 0.500000


@given(shortfall=SMALL.map(abs))
def test_against_a_zero_bound_one_unit_stands_for_its_size(shortfall: Decimal) -> None:
    assert relative_shortfall(shortfall, Decimal(0)) == shortfall
    assert relative_shortfall(shortfall, Decimal("-0.00")) == shortfall


@pytest.mark.parametrize(
    ("comparison", "target", "upper", "value", "met", "shortfall", "relative"),
    [
        # 15-30 minutes, 45 taken: 15 over the upper bound, half of it again.
        (Comparison.WITHIN_RANGE, "15", "30", "45", False, "15", "0.5"),
        # 15-30 minutes, 12 taken: 3 under the lower bound, a fifth of it.
        (Comparison.WITHIN_RANGE, "15", "30", "12", False, "3", "0.2"),
        (Comparison.WITHIN_RANGE, "15", "30", "30", True, "0", "0"),
        # At least 40000 transactions, 30000 done: a quarter short.
        (Comparison.AT_LEAST, "40000", None, "30000", False, "10000", "0.25"),
        # At most 0 priority-1 incidents, 3 happened: one unit stands for the zero bound.
        (Comparison.AT_MOST, "0", None, "3", False, "3", "3"),
        (Comparison.AT_LEAST, "95", None, "91.5", False, "3.5", "0.036842"),
        (Comparison.AT_MOST, "4", None, "44", False, "40", "10"),
        (Comparison.EQUAL, "-20", None, "-25", False, "5", "0.25"),
    ],
)
def test_the_documented_examples(
    comparison: Comparison,
    target: str,
    upper: str | None,
    value: str,
    met: bool,
    shortfall: str,
    relative: str,
) -> None:
    judgement = terms(comparison, Decimal(target), None if upper is None else Decimal(upper))
    outcome = judgement.judge(Decimal(value))
    assert outcome.met is met
    assert str(outcome.shortfall) == shortfall
    assert str(outcome.relative_shortfall) == relative
