"""Ids and instants as the gateway takes them, checked before they reach SQL or a service URL.

Every id Accord gives out is a UUID: anything else (a path, a NUL, a query string) is refused
here, so it never becomes part of a URL or a query. Instants beyond what a UTC timestamp can
hold are brought to its ends, where they compare as they would have.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote
from uuid import UUID

from services.gateway.protection import Refused


class NotAnId(ValueError):
    """A value given as an id that is not a UUID."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"{field} must be a UUID, not {value!r}")
        self.field, self.value = field, value


def uuid_text(value: object, field: str) -> str:
    """The id in its one canonical form (lower case, with hyphens); NotAnId otherwise."""
    try:
        return str(UUID(str(value)))
    except ValueError:
        raise NotAnId(field, str(value)) from None


def id_argument(value: object, field: str = "id") -> str:
    """An id argument of a query: BAD_USER_INPUT unless it is a UUID."""
    try:
        return uuid_text(value, field)
    except NotAnId as error:
        raise Refused("BAD_USER_INPUT", str(error)) from None


def id_arguments(values: Iterable[object], field: str) -> list[str]:
    return [id_argument(value, field) for value in values]


def text_argument(value: str, field: str) -> str:
    """A text argument that filters a read (a name, a status): BAD_USER_INPUT if it holds a
    control character, which no stored name has and PostgreSQL text cannot hold (NUL)."""
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise Refused("BAD_USER_INPUT", f"{field} must not hold control characters")
    return value


def path(template: str, **segments: str) -> str:
    """A service path with each segment quoted: a value can never add a segment or a query."""
    return template.format(**{name: quote(value, safe="") for name, value in segments.items()})


def utc(value: datetime) -> datetime:
    """The moment in UTC; one past either end of a UTC timestamp is taken as that end (it is
    before, or after, everything Accord holds), instead of overflowing on the way to SQL."""
    if value.tzinfo is None:  # a moment without an offset is read as UTC, as PostgreSQL does
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        end = datetime.min if value.year == datetime.min.year else datetime.max
        return end.replace(tzinfo=UTC)


def instant(value: datetime | None) -> datetime | None:
    """An optional moment argument, in UTC (see `utc`)."""
    return None if value is None else utc(value)
