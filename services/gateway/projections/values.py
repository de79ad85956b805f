"""The published contracts' JSON values as column values: dates, decimals, moments, id lists."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson


def day(value: Any) -> date | None:
    """A YYYY-MM-DD date of the contract, or None."""
    return None if value is None else date.fromisoformat(str(value))


def number(value: Any) -> Decimal | None:
    """An exact decimal (the contracts publish decimals as strings so that they stay exact)."""
    return None if value is None else Decimal(str(value))


def moment(value: Any) -> datetime | None:
    """An RFC 3339 date-time, or None."""
    return None if value is None else datetime.fromisoformat(str(value))


def ids(values: Iterable[Any] | None) -> list[str]:
    """A list of ids as text, in the order published."""
    return [str(value) for value in values or ()]


def iso(at: datetime) -> str:
    """A moment as it is kept inside JSON state (the envelope's time, so rebuilds agree)."""
    return at.isoformat()


def document(value: Any) -> str:
    """A JSON document for a jsonb column (which keeps no key order or spacing of its own)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
