"""Every decimal the gateway shows is written out in full: 40000, never 4E+4."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.gateway.numbers import DECIMAL, written
from services.gateway.schema import SCALARS
from services.gateway.types import Terms

# As PostgreSQL's numeric comes back through asyncpg: any exponent, positive ones included.
READ_BACK = st.decimals(allow_nan=False, allow_infinity=False) | st.builds(
    lambda digits, exponent: Decimal(f"{digits}E{exponent}"),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.integers(min_value=-12, max_value=12),
)


@given(READ_BACK)
def test_a_decimal_is_written_without_an_exponent_and_means_the_same(value: Decimal) -> None:
    text = written(value)
    assert "E" not in text.upper()
    assert Decimal(text) == value


def test_the_digits_written_stay_as_they_were_written() -> None:
    assert written(Decimal("4E+4")) == "40000"
    assert written(Decimal("99.50")) == "99.50"
    assert written(Decimal("1E-7")) == "0.0000001"


def test_the_schema_writes_its_decimals_with_the_gateway_scalar() -> None:
    assert SCALARS[Decimal] is DECIMAL
    assert DECIMAL.serialize(Decimal("4E+4")) == "40000"
    assert DECIMAL.parse_value("40000") == Decimal(40000)


def test_an_expectations_terms_show_their_bounds_written_out() -> None:
    shown = Terms.of({"comparison": "within_range", "target": "4E+4", "target_upper": "5E+4"})
    assert shown is not None and (shown.target, shown.target_upper) == ("40000", "50000")
