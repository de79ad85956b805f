"""Decimals as a person writes them: a target of 40000 shows as 40000, never as 4E+4.

PostgreSQL's `numeric` comes back from asyncpg as a Decimal that may carry an exponent (40000
arrives as Decimal("4E+4")), and str() of such a Decimal writes the exponent. Every decimal the
gateway shows goes out through the Decimal scalar below, in fixed-point notation with the
digits after the point it was stored with (99.50 stays 99.50).
"""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.schema.types.base_scalars import DecimalDefinition


def written(value: Decimal) -> str:
    """The decimal in fixed-point notation, exactly: no exponent, no digit added or lost."""
    return format(value, "f")


def _serialize(value: object) -> str:
    return written(value) if isinstance(value, Decimal) else written(Decimal(str(value)))


DECIMAL = strawberry.scalar(
    name="Decimal",
    serialize=_serialize,
    parse_value=DecimalDefinition.parse_value,
    description="An exact decimal number, written as text in fixed-point notation: 40000,"
    " 99.5, 0.000001 (never 4E+4). Send it as text too, so that its digits stay as written.",
)
