"""The service's background work, started and stopped with its process: the ledger, the
dispatcher, the scheduler and the delivery worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from starlette.applications import Starlette

from services.notifications.actor import ServiceActor
from services.notifications.application import Notifications
from services.notifications.delivery import DeliveryWorker
from services.notifications.dispatcher import Dispatcher
from services.notifications.ledger import Ledger
from services.notifications.scheduler import Scheduler
from services.notifications.settings import NotifySettings
from shared.database import create_pool
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from shared.shutdown import close_pool, within

SERVICE = "notifications"


class Workers:
    """Everything that runs between requests, on a pool of its own."""

    def __init__(
        self, runtime: ServiceRuntime[Notifications], pool: Any, settings: NotifySettings
    ) -> None:
        self.pool = pool
        self.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=settings.webhook_timeout_seconds)
        )
        self.ledger = Ledger(
            runtime.app, runtime.executor, pool,
            on_applied=self._applied, batched=settings.batched, linger=settings.linger,
        )  # fmt: skip
        self.actor = ServiceActor(runtime, self.ledger.wake)
        self.dispatcher = Dispatcher(self.actor, pool, settings)
        self.scheduler = Scheduler(self.actor, pool, settings)
        self.delivery = DeliveryWorker(self.actor, pool, settings, self.http)
        self._tasks: list[asyncio.Task[None]] = []

    def _applied(self) -> None:
        # New rows in the tables may be notices to send now.
        self.delivery.wake()

    async def start(self) -> None:
        await self.ledger.start()
        runs: dict[str, Callable[[], Any]] = {
            "ledger": self.ledger.run,
            "dispatcher": self.dispatcher.run,
            "scheduler": self.scheduler.run,
            "delivery": self.delivery.run,
        }
        self._tasks = [
            asyncio.create_task(run(), name=f"notifications-{name}") for name, run in runs.items()
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await within("notification workers", asyncio.gather(*self._tasks, return_exceptions=True))
        await within("webhook client", self.http.close())
        await close_pool(self.pool)

    def problems(self) -> str | None:
        """What is failing now, for /readyz-like reporting; None when all is well."""
        failing = {
            "ledger": self.ledger.last_error,
            "dispatcher": self.dispatcher.last_error,
            "scheduler": self.scheduler.last_error,
            "delivery": self.delivery.last_error,
        }
        found = [f"{name}: {error}" for name, error in failing.items() if error]
        return "; ".join(found) or None


def with_workers(app: Starlette, settings: Settings, notify: NotifySettings) -> Starlette:
    """Run the workers inside the service's own lifespan, after its runtime and views start."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with inner(app):
            pool = await create_pool(settings.database_url, SERVICE, max_size=4)
            workers = Workers(app.state.runtime, pool, notify)
            await workers.start()
            app.state.workers = workers
            try:
                yield
            finally:
                await workers.stop()

    app.router.lifespan_context = lifespan
    return app
