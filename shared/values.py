"""The values a command may carry: only what every store and read model downstream can hold.

A command is refused here, before anything is stored, when one of its values could not be
written to a read model later (PostgreSQL refuses a NUL in text, a numeric past its scale, an
instant past year 9999): an event stored and then dead-lettered by every projection would be
acknowledged and never shown. These are the bounds of plumbing, not rules of the domain;
each service's own rules (lengths, choices, ranges) still apply after them.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

# Longer than any text a domain allows (they refuse past their own, smaller limits, by name).
MAX_TEXT = 10_000
# Whitespace long text may hold besides spaces: line breaks and tabs.
LONG_TEXT_CONTROLS = frozenset("\n\r\t")
# Numbers: below a quadrillion in size, to a millionth at most; PostgreSQL `numeric` holds
# far more, and no measurement, target or score needs more.
MAX_MAGNITUDE = Decimal(10) ** 15
MAX_DECIMAL_PLACES = 6
# Days and instants from the Unix epoch to the end of year 9998: a year of room before
# datetime's last one, so that reminders and deadlines computed from them never overflow.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9998, 12, 31)
FIRST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
END_OF_INSTANTS = datetime(9999, 1, 1, tzinfo=UTC)
# Durations (reminder intervals and the like): positive, at most about ten years.
LONGEST_DURATION = timedelta(days=3653)


def check_text(value: str, *, allowed: frozenset[str] = frozenset()) -> str:
    """Text with no control character (other than those `allowed`) and no lone surrogate."""
    if len(value) > MAX_TEXT:
        raise ValueError(f"at most {MAX_TEXT} characters are allowed, not {len(value)}")
    for position, char in enumerate(value):
        if char in allowed:
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(
                f"control character U+{ord(char):04X} at position {position} is not allowed"
            )
    return value


def check_long_text(value: str) -> str:
    """Text that may run over several lines: line breaks and tabs are allowed."""
    return check_text(value, allowed=LONG_TEXT_CONTROLS)


def check_amount(value: Decimal) -> Decimal:
    """A finite number below MAX_MAGNITUDE, with at most MAX_DECIMAL_PLACES after the point."""
    if not value.is_finite():
        raise ValueError("the number must be finite")
    if abs(value) >= MAX_MAGNITUDE:
        raise ValueError(f"the number must be smaller than {MAX_MAGNITUDE:.0E} in size")
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite, checked above
    # Trailing zeros are not precision: 1.500 has one decimal place.
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if value and exponent + trailing < -MAX_DECIMAL_PLACES:
        raise ValueError(f"at most {MAX_DECIMAL_PLACES} decimal places are allowed")
    return value


def check_day(value: date) -> date:
    """A calendar date from FIRST_DAY to LAST_DAY."""
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"the date must be from {FIRST_DAY} to {LAST_DAY}")
    return value


def check_instant(value: datetime) -> datetime:
    """An instant with its offset, in UTC, from FIRST_INSTANT to before END_OF_INSTANTS."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the instant must say its offset from UTC (e.g. Z or +02:00)")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00, before the first representable
        utc = None
    if utc is None or not FIRST_INSTANT <= utc < END_OF_INSTANTS:
        raise ValueError(
            f"the instant must be from {FIRST_INSTANT.isoformat()}"
            f" to before {END_OF_INSTANTS.isoformat()}"
        )
    return utc


def check_duration(value: timedelta) -> timedelta:
    """A positive duration of at most LONGEST_DURATION."""
    if not timedelta(0) < value <= LONGEST_DURATION:
        raise ValueError(f"the duration must be positive and at most {LONGEST_DURATION.days} days")
    return value


# A whole number (a version, a score, a count) that a PostgreSQL integer holds.
Integer = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
# One line of text: a name, a title, a label, an id a person chose.
Text = Annotated[str, AfterValidator(check_text)]
# Prose: a description, a reason, an answer; line breaks and tabs allowed.
LongText = Annotated[str, AfterValidator(check_long_text)]
# A measured value, a target, a threshold.
Amount = Annotated[Decimal, AfterValidator(check_amount)]
Day = Annotated[date, AfterValidator(check_day)]
Instant = Annotated[AwareDatetime, AfterValidator(check_instant)]
Duration = Annotated[timedelta, AfterValidator(check_duration)]
