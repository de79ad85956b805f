"""Checks on what people type in: text lengths, choices, scores, numbers, dates and ids.

Each returns the value in the form the domain keeps, or raises the named InvalidValue error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from services.elicitation.errors import (
    DateInvalid,
    IdInvalid,
    InvalidChoice,
    InvalidValue,
    ScoreOutOfRange,
    TextEmpty,
    TextTooLong,
    ValueNotNumeric,
    ValueOutOfRange,
)
from shared.values import check_amount, check_day

# Free text (an expectation, a reason, an answer) and short labels (a metric, a unit, a name).
TEXT_LIMIT = 2000
LABEL_LIMIT = 200

E = TypeVar("E", bound=StrEnum)
Number = Decimal | int | float | str
Id = UUID | str


def text(field: str, value: str, *, limit: int = TEXT_LIMIT) -> str:
    """Required text, trimmed."""
    trimmed = value.strip()
    if not trimmed:
        raise TextEmpty(field)
    if len(trimmed) > limit:
        raise TextTooLong(field, limit, len(trimmed))
    return trimmed


def optional_text(field: str, value: str | None, *, limit: int = TEXT_LIMIT) -> str:
    """Text that may be left out ("" when it is)."""
    if value is None or not value.strip():
        return ""
    return text(field, value, limit=limit)


def label(field: str, value: str) -> str:
    """A required short label."""
    return text(field, value, limit=LABEL_LIMIT)


def choice(field: str, value: E | str, kind: type[E]) -> E:
    """One of an enumeration's values, by value."""
    try:
        return kind(value)
    except ValueError:
        raise InvalidChoice(field, value, [member.value for member in kind]) from None


def score(field: str, value: int, *, low: int = 1, high: int = 5) -> int:
    """A whole number on a small scale, such as likelihood 1-5."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ScoreOutOfRange(field, value, low, high)
    return value


def number(
    field: str,
    value: Number,
    *,
    error: Callable[[str, object], InvalidValue] = ValueNotNumeric,
) -> Decimal:
    """A finite decimal; floats go through their shortest text so 99.9 stays 99.9."""
    if isinstance(value, bool):
        raise error(field, value)
    try:
        parsed = Decimal(str(value).strip()) if isinstance(value, (float, str)) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise error(field, value) from None
    if not parsed.is_finite():
        raise error(field, value)
    try:  # what the read models can hold, for numbers that arrive as text (terms)
        return check_amount(parsed)
    except ValueError as problem:
        raise ValueOutOfRange(field, value, str(problem)) from None


def a_date(field: str, value: date | str) -> date:
    """A calendar date, or its ISO text (YYYY-MM-DD)."""
    if isinstance(value, datetime):
        raise DateInvalid(field, value.isoformat())
    try:
        day = value if isinstance(value, date) else date.fromisoformat(value)
    except (TypeError, ValueError):
        raise DateInvalid(field, value) from None
    try:
        return check_day(day)
    except ValueError as problem:
        raise ValueOutOfRange(field, value, str(problem)) from None


def an_id(field: str, value: Id) -> UUID:
    """A UUID, or its text."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(value)
    except (TypeError, ValueError, AttributeError):
        raise IdInvalid(field, value) from None


def ids(field: str, values: Iterable[Id]) -> list[UUID]:
    """Distinct UUIDs, in the order given."""
    seen: dict[UUID, None] = {}
    for value in values:
        seen.setdefault(an_id(field, value), None)
    return list(seen)
