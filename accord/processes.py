"""Which app each process serves: the one place that knows every service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette

from accord.process_names import Process
from services.elicitation import api as elicitation
from services.gateway import app as gateway
from services.gateway import projector_app as projector
from services.notifications import api as notifications
from services.ranking import api as ranking
from shared.audit import schedule
from shared.audit.http import public_key_route
from shared.bus import Bus
from shared.settings import Settings
from shared.telemetry import instrument_app

FACTORIES: dict[Process, Callable[[Settings, Bus], Starlette]] = {
    Process.elicitation: elicitation.create_app,
    Process.ranking: ranking.create_app,
    Process.notifications: notifications.create_app,
    Process.gateway: gateway.create_app,
    Process.projector: projector.create_app,
}


# The processes whose service stores events: each signs its own log's checkpoints.
STORES = (Process.elicitation, Process.ranking, Process.notifications)


def create_app(process: Process, settings: Settings, bus: Bus) -> Starlette:
    app = FACTORIES[process](settings, bus)
    if process in STORES:
        with_checkpoints(app, [process.value], settings, bus)
    if process is Process.gateway:
        # Where auditors and consumers get the key; it never makes one: the services sign.
        app.router.routes.insert(0, public_key_route(settings, generate=False))
    instrument_app(app)
    return app


def with_checkpoints(app: Starlette, services: list[str], settings: Settings, bus: Bus) -> None:
    """Sign and publish the services' checkpoints on schedule, inside the app's lifespan (one
    replica per service at a time: shared/audit/schedule.py)."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[Any]:
        async with (
            inner(app) as state,
            schedule.running(services, settings, bus.publisher("audit")) as running,
        ):
            app.state.checkpoints = running
            yield state

    app.router.lifespan_context = lifespan
