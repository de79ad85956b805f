"""The values a command may carry: what a read model can hold passes, the rest is refused by name."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared.values import (
    MAX_DECIMAL_PLACES,
    MAX_MAGNITUDE,
    Amount,
    Day,
    Duration,
    Instant,
    Integer,
    LongText,
    Text,
)


class Command(BaseModel):
    """A command carrying one value of each kind, all optional."""

    title: Text = ""
    description: LongText = ""
    value: Amount | None = None
    due_on: Day | None = None
    closes_at: Instant | None = None
    every: Duration | None = None
    count: Integer | None = None


def refusal(**fields: object) -> str:
    with pytest.raises(ValidationError) as refused:
        Command.model_validate(fields)
    return str(refused.value)


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\n", "\t"])
def test_one_line_of_text_holds_no_control_character(char: str) -> None:
    assert f"control character U+{ord(char):04X}" in refusal(title=f"Tills{char}work")


@pytest.mark.parametrize("char", ["\x00", "\x0b", "\x1f", "\x9f"])
def test_long_text_holds_no_control_character_but_line_breaks_and_tabs(char: str) -> None:
    assert "control character" in refusal(description=f"line one{char}line two")
    text = "line one\r\n\tline two"
    assert Command(description=text).description == text


def test_text_keeps_every_printable_character_of_any_script() -> None:
    text = "Caisses: 99,9 % — 收银机 🧾 ü\u200b"
    assert Command(title=text).title == text


def test_a_lone_surrogate_is_not_text() -> None:
    assert "U+D800" in refusal(title="half \ud800 a pair")


def test_text_past_the_plumbing_limit_is_refused() -> None:
    assert "at most 10000 characters" in refusal(description="x" * 10_001)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1e-20000", "decimal places"),
        ("0.0000001", "decimal places"),
        ("1e15", "smaller than"),
        ("-1e400", "smaller than"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
    ],
)
def test_a_number_outside_what_the_read_models_hold_is_refused(value: str, problem: str) -> None:
    assert problem in refusal(value=value)


@pytest.mark.parametrize(
    "value", ["99.9", 99.9, 0, "-0.000001", "999999999999999.999999", "1.5000000"]
)
def test_numbers_in_range_pass_exactly(value: object) -> None:
    assert Command.model_validate({"value": value}).value == Decimal(str(value))


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_an_accepted_number_is_below_the_bound_with_few_places(value: Decimal) -> None:
    try:
        accepted = Command(value=value).value
    except ValidationError:
        return
    assert accepted is not None and abs(accepted) < MAX_MAGNITUDE
    assert accepted == accepted.quantize(Decimal(1).scaleb(-MAX_DECIMAL_PLACES))


@pytest.mark.parametrize(
    "instant",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1969-12-31T23:59:59Z",
        "9999-06-01T00:00:00Z",
    ],
)
def test_an_instant_out_of_range_is_refused_and_never_overflows(instant: str) -> None:
    assert "the instant must be from 1970" in refusal(closes_at=instant)


def test_an_instant_must_say_its_offset_and_is_kept_in_utc() -> None:
    assert "timezone" in refusal(closes_at="2027-01-01T09:00:00")
    kept = Command.model_validate({"closes_at": "2027-01-01T09:00:00+02:00"}).closes_at
    assert kept == datetime(2027, 1, 1, 7, tzinfo=UTC) and kept.utcoffset() == timedelta(0)


def test_a_day_is_from_the_epoch_to_a_year_before_the_last_one() -> None:
    assert "the date must be from" in refusal(due_on="0001-01-01")
    assert "the date must be from" in refusal(due_on="9999-12-31")
    assert Command.model_validate({"due_on": "2027-02-28"}).due_on == date(2027, 2, 28)


def test_a_duration_is_positive_and_bounded() -> None:
    assert "positive" in refusal(every="PT0S")
    assert "positive" in refusal(every="P999999999D")
    assert Command.model_validate({"every": "P2D"}).every == timedelta(days=2)


def test_a_whole_number_fits_a_postgresql_integer() -> None:
    assert "less than or equal" in refusal(count=2**31)
    assert Command(count=-(2**31)).count == -(2**31)
