"""Builds a write-side service's process: its runtime, relay, views, routes and health."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import asyncpg
from eventsourcing.application import Application
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from shared.auth import TokenVerifier
from shared.bus import Bus
from shared.database import create_pool
from shared.errors import MethodNotAllowed, NotFound
from shared.faults import LoggedFaults
from shared.health import Check, health_routes
from shared.http import refused
from shared.metrics import Reading, metrics_route, of_parts
from shared.projection import Batching, BatchResult, Handler, ProjectionRunner
from shared.runtime import ServiceRuntime, build_runtime
from shared.settings import Settings
from shared.shutdown import close_pool, within

T = TypeVar("T")


@dataclass(frozen=True)
class View:
    """A service's own read model of other services' events, kept by a projection runner."""

    name: str
    topics: Sequence[str]
    schema: str
    handler: Handler
    # The same handler a batch at a time; None (or ACCORD_PROJECTION_BATCHED off): one by one.
    batching: Batching | None = None
    # Called after each committed batch that applied something, with what it applied.
    on_applied: Callable[[BatchResult], None] | None = None
    # Read only by the service's own scheduler, never by a request: it may linger longer.
    for_scheduler: bool = False


# A background task of the service, given its runtime and the pool on its own schema; it runs
# until cancelled at shutdown.
Worker = Callable[[ServiceRuntime[Any], asyncpg.Pool], Coroutine[Any, Any, None]]


def _linger_ms(view: View, settings: Settings) -> int:
    return (
        settings.scheduler_view_linger_ms if view.for_scheduler else settings.projection_linger_ms
    )


# How long a request waits at most for the service's views to apply what they hold.
HURRY_SECONDS = 1.0


def runtime_of(request: Request) -> ServiceRuntime[Any]:
    """The runtime of the service that is answering this request."""
    runtime: ServiceRuntime[Any] = request.app.state.runtime
    return runtime


async def views_of(request: Request) -> asyncpg.Pool:
    """The pool on the service's own schema, where its views live, once each view has applied
    what it was given: a view lingers for bigger batches only while no request reads it."""
    await hurry_views(request)
    return views_pool(request)


def views_pool(request: Request) -> asyncpg.Pool:
    """The pool on the service's views as they stand, for a request that has hurried them
    already (views_of, found_in_views): each hurry asks every topic where it ends."""
    pool: asyncpg.Pool = request.app.state.pool
    return pool


async def hurry_views(request: Request, seconds: float = HURRY_SECONDS) -> bool:
    """Each of the service's views applies what its topics held when asked (see
    ProjectionRunner.hurry); waited for at most `seconds`, so a view that is stuck (a lock, a
    database that is down) or far behind holds no request: it reads what the view has.
    Answers whether every view got there."""
    runners: list[ProjectionRunner] = request.app.state.views
    try:
        async with asyncio.timeout(seconds):
            await asyncio.gather(*(runner.hurry() for runner in runners))
    except TimeoutError:
        return False
    return True


async def caught_up_views(request: Request) -> asyncpg.Pool | None:
    """The pool on the service's views once each holds what its topics held when the request
    came, waited for up to the service's view wait (ACCORD_VIEW_WAIT_SECONDS); None if one did
    not get there: a command whose content comes from the views refuses rather than act on
    them behind (its service says CATCHING_UP)."""
    if not await hurry_views(request, request.app.state.view_wait):
        return None
    return views_pool(request)


async def found_in_views(
    request: Request, read: Callable[[asyncpg.Pool], Awaitable[T | None]]
) -> T | None:
    """What `read` finds in the service's views. When it finds nothing while a view had not
    caught up within the usual second, it reads again once they hold what their topics held
    when the request came (up to the view wait): what was stored a moment ago is not answered
    as absent (a person appointed just before, refused as a stranger). Views that had caught
    up answer at once, a stranger's refusal included."""
    current = await hurry_views(request)
    found = await read(views_pool(request))
    if found is None and not current:
        caught_up = await caught_up_views(request)
        if caught_up is not None:
            found = await read(caught_up)
    return found


def service_app(
    service: str,
    app_class: type[Application[Any]],
    settings: Settings,
    bus: Bus,
    routes: Sequence[BaseRoute],
    views: Sequence[View] = (),
    checks: Mapping[str, Check] | None = None,
    workers: Sequence[Worker] = (),
) -> Starlette:
    """The service's Starlette app; its lifespan starts and stops everything the service runs."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await build_runtime(service, app_class, settings, bus.publisher(service))
        await runtime.start()
        app.state.runtime = runtime
        runners: list[ProjectionRunner] = []
        tasks: list[asyncio.Task[None]] = []
        pool = None
        if views or workers:
            # Views and workers lock only within transactions and SET nothing for the session.
            pool = await create_pool(settings.database_url, service, max_size=4, plain_queries=True)
            app.state.pool = pool
            for view in views:
                await pool.execute(view.schema)
                consumer = bus.consumer(view.topics, group=f"accord-{service}-{view.name}")
                runner = ProjectionRunner(
                    f"{service}-{view.name}", consumer, pool, view.handler,
                    batch_size=settings.projection_batch_size,
                    remember=timedelta(days=settings.projection_dedupe_days),
                    batching=view.batching if settings.projection_batched else None,
                    linger=_linger_ms(view, settings) / 1000, on_applied=view.on_applied,
                    copy_from=settings.projection_copy_rows,
                )  # fmt: skip
                await runner.start()
                runners.append(runner)
                tasks.append(asyncio.create_task(runner.run(), name=runner.name))
            for worker in workers:
                tasks.append(asyncio.create_task(worker(runtime, pool), name=worker.__name__))
        app.state.views = runners
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await within("views", asyncio.gather(*tasks, return_exceptions=True))
            for runner in runners:
                await within(f"{runner.name} consumer", runner.consumer.stop())
            await runtime.stop()
            if pool is not None:
                await close_pool(pool)

    async def event_store() -> str | None:
        # One read at a time: while the database does not answer, probes that gave up on
        # theirs join it rather than queue more in the store's threads ahead of commands.
        asking: asyncio.Future[Any] | None = app.state.store_probe
        if asking is None or asking.done():
            runtime: ServiceRuntime[Any] = app.state.runtime
            probe = runtime.executor.run(runtime.app.recorder.max_notification_id)
            asking = app.state.store_probe = asyncio.ensure_future(probe)
            # Its failure is the probes' answer; one nobody waited for any more is not news.
            asking.add_done_callback(lambda done: done.cancelled() or done.exception())
        await asyncio.shield(asking)
        return None

    async def relay() -> str | None:
        runtime: ServiceRuntime[Any] = app.state.runtime
        return runtime.relay.last_error or None

    async def consumers() -> str | None:
        runners: list[ProjectionRunner] = app.state.views
        problems = [p for r in runners if (p := r.readiness(settings.ready_max_lag))]
        return "; ".join(problems) or None

    async def readings() -> list[Reading]:
        runtime: ServiceRuntime[Any] | None = getattr(app.state, "runtime", None)
        relays = {service: runtime.relay} if runtime is not None else {}
        return await of_parts(app.state.views, relays)

    ready = {"event_store": event_store, "relay": relay, "views": consumers, **(checks or {})}
    app = Starlette(
        routes=[*health_routes(ready), metrics_route(lambda: app.state.readings), *routes],
        lifespan=lifespan,
        middleware=[Middleware(LoggedFaults)],
        exception_handlers={HTTPException: no_such_endpoint},
    )
    app.state.readiness = ready  # what /readyz checks (the embedded default checks them all)
    app.state.readings = [readings]  # what /metrics reads (the embedded default reads them all)
    app.state.store_probe = None
    app.state.token_verifier = TokenVerifier(settings)
    app.state.max_body_bytes = settings.service_max_body_bytes
    app.state.view_wait = settings.view_wait
    app.state.views = []
    return app


async def no_such_endpoint(request: Request, error: Exception) -> Response:
    """A path or method the service does not serve, answered in JSON like every refusal."""
    if isinstance(error, HTTPException) and error.status_code == 405:
        return refused(
            request, MethodNotAllowed(f"{request.url.path} does not serve {request.method}")
        )
    return refused(request, NotFound(f"no endpoint {request.method} {request.url.path}"))
