"""The projector process: its runner, the read-model tables, and health."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette

from services.gateway.projections.schema import SCHEMA_NAME, create_tables
from services.gateway.projector import build_projector
from shared.bus import Bus
from shared.database import create_pool
from shared.health import health_routes
from shared.metrics import Reading, metrics_route, of_parts
from shared.projection import BatchResult, ProjectionRunner
from shared.settings import Settings
from shared.shutdown import close_pool, within


def create_app(
    settings: Settings,
    bus: Bus,
    *,
    schema: str = SCHEMA_NAME,
    on_applied: Callable[[BatchResult], None] | None = None,
) -> Starlette:
    """The `projector` process; `schema` is for tests, which keep their read models apart;
    `on_applied` is told each committed batch (the embedded default's gateway listens)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The projector locks only within its transactions and SETs nothing for the session.
        pool = await create_pool(settings.database_url, schema, plain_queries=True)
        try:
            async with pool.acquire() as conn:
                await create_tables(conn)
            runner = build_projector(settings, bus, pool, on_applied=on_applied)
            await runner.start()
            task = asyncio.create_task(runner.run(), name=runner.name)
            app.state.pool, app.state.projector = pool, runner
            try:
                yield
            finally:
                task.cancel()
                await within("projector", asyncio.gather(task, return_exceptions=True))
                await within("projector consumer", runner.consumer.stop())
        finally:
            await close_pool(pool)

    async def database() -> str | None:
        await app.state.pool.fetchval("SELECT 1")
        return None

    async def projector() -> str | None:
        runner: ProjectionRunner | None = app.state.projector
        if runner is None:
            return "not started"
        return runner.readiness(settings.ready_max_lag)

    async def readings() -> list[Reading]:
        runner: ProjectionRunner | None = app.state.projector
        return await of_parts([runner] if runner is not None else [], {})

    checks = {"database": database, "projector": projector}
    routes = [*health_routes(checks), metrics_route(lambda: app.state.readings)]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.readiness = checks  # what /readyz checks (the embedded default checks them all)
    app.state.readings = [readings]  # what /metrics reads (the embedded default reads them all)
    app.state.pool = None
    app.state.projector = None
    return app
