"""The service acting on its own behalf: queueing, delivering and reminding are its commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from services.notifications.application import Notifications
from shared.runtime import ServiceRuntime

T = TypeVar("T")

SYSTEM_ACTOR = "accord-notifications"
SYSTEM_ROLE = "system"


class ServiceActor:
    """Runs the application's commands as the service, then says its own tables are behind."""

    def __init__(self, runtime: ServiceRuntime[Notifications], changed: Callable[[], None]) -> None:
        self.runtime = runtime
        self.app = runtime.app
        self._changed = changed

    async def run(
        self, command: Callable[..., T], *args: Any, causation_id: str = "", **kwargs: Any
    ) -> T:
        """A command, stamped with the service as its actor and what caused it."""
        try:
            return await self.runtime.execute(
                command, *args, actor_id=SYSTEM_ACTOR, actor_role=SYSTEM_ROLE,
                causation_id=causation_id, **kwargs,
            )  # fmt: skip
        finally:
            self._changed()

    async def read(self, query: Callable[..., T], *args: Any) -> T:
        """A query of the event store, off the event loop."""
        return await self.runtime.executor.run(query, *args)
