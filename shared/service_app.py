"""Builds a write-side service's process: its runtime, relay, routes and health, in one lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from eventsourcing.application import Application
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute

from shared.auth import TokenVerifier
from shared.bus import Bus
from shared.health import health_routes
from shared.runtime import ServiceRuntime, build_runtime
from shared.settings import Settings


def runtime_of(request: Request) -> ServiceRuntime[Any]:
    """The runtime of the service that is answering this request."""
    runtime: ServiceRuntime[Any] = request.app.state.runtime
    return runtime


def service_app(
    service: str,
    app_class: type[Application[Any]],
    settings: Settings,
    bus: Bus,
    routes: Sequence[BaseRoute],
) -> Starlette:
    """The service's Starlette app; its lifespan starts the runtime and relay, and stops them."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await build_runtime(service, app_class, settings, bus.publisher(service))
        await runtime.start()
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.stop()

    async def event_store() -> str | None:
        runtime: ServiceRuntime[Any] = app.state.runtime
        await runtime.executor.run(runtime.app.recorder.max_notification_id)
        return None

    async def relay() -> str | None:
        runtime: ServiceRuntime[Any] = app.state.runtime
        return runtime.relay.last_error or None

    checks = {"event_store": event_store, "relay": relay}
    app = Starlette(routes=[*health_routes(checks), *routes], lifespan=lifespan)
    app.state.token_verifier = TokenVerifier(settings)
    return app
