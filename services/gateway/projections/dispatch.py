"""The projector's one handler: the audit log for every event, then the area it belongs to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.gateway.projections import (
    audit,
    contracts,
    delivery,
    expectations,
    obligations,
    prioritizations,
    risks,
)
from shared.database import Connection
from shared.envelope import Envelope

# Expectations come before delivery: a measurement reads the terms its revision recorded.
AREAS: tuple[Callable[[Connection, Envelope], Awaitable[None]], ...] = (
    contracts.apply,
    expectations.apply,
    delivery.apply,
    obligations.apply,
    risks.apply,
    prioritizations.apply,
)


async def apply(conn: Connection, envelope: Envelope) -> None:
    """Apply one event to every read model, inside the runner's transaction."""
    await audit.record(conn, envelope)
    for area in AREAS:
        await area(conn, envelope)
