"""Routing an event to the handler its area declares for it, by service and event name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from shared.envelope import Envelope
from shared.pending_writes import Statements

Handler = Callable[[Statements, Envelope], Awaitable[None]]


def by_event(service: str, handlers: Mapping[str, Handler]) -> Handler:
    """An area's `apply`: the handler named for the event, or nothing for any other event."""

    async def apply(conn: Statements, envelope: Envelope) -> None:
        if envelope.spec.service != service:
            return
        handler = handlers.get(envelope.spec.name)
        if handler is not None:
            await handler(conn, envelope)

    return apply
