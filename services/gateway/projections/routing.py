"""Routing an event to the handler its area declares for it, by service and event name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from shared.envelope import Envelope
from shared.pending_writes import Statements
from shared.schemas.registry import ContractSpec

Handler = Callable[[Statements, Envelope], Awaitable[None]]


class Area:
    """An area's `apply`: the handler named for the event, or nothing for any other event.
    `handles` tells the dispatcher which events to bring at all."""

    def __init__(self, service: str, handlers: Mapping[str, Handler]) -> None:
        self.service = service
        self.handlers = dict(handlers)

    def handles(self, spec: ContractSpec) -> bool:
        return spec.service == self.service and spec.name in self.handlers

    async def __call__(self, conn: Statements, envelope: Envelope) -> None:
        spec = envelope.spec
        if spec.service != self.service:
            return
        handler = self.handlers.get(spec.name)
        if handler is not None:
            await handler(conn, envelope)


def by_event(service: str, handlers: Mapping[str, Handler]) -> Area:
    """An area's `apply`: the handler named for the event, or nothing for any other event."""
    return Area(service, handlers)
