"""The embedded default: every service and the gateway in ONE process, on embedded PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import uvicorn
from rich.console import Console
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount

from accord.database import database
from accord.infra import pgdata
from accord.processes import FACTORIES, STORES, Process
from services.gateway import app as gateway
from services.gateway import projector_app as projector
from services.gateway import service_calls
from services.gateway.consistency import CommittedBatches
from shared import collector
from shared.audit import schedule
from shared.audit.http import public_key_route
from shared.bus_memory import InProcessBus
from shared.health import health_routes
from shared.leftovers import stop_leftover_tasks
from shared.logs import configure_logging
from shared.metrics import metrics_route
from shared.service_app import no_such_endpoint
from shared.settings import Settings
from shared.telemetry import configure_telemetry, instrument_app

console = Console(stderr=True)


def embedded_app(settings: Settings) -> Starlette:
    """The gateway at /, each service under /<service>, their lifespans run together.

    Events flow between them through one in-process bus instead of Kafka, and the gateway's
    requests reach the services through this app itself, without a socket.
    """
    bus = InProcessBus(forget_after=settings.bus_forget_after, seals=True)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for process_app in apps.values():
                await stack.enter_async_context(process_app.router.lifespan_context(process_app))
            stores = [p.value for p in STORES]
            app.state.checkpoints = await stack.enter_async_context(
                schedule.running(stores, settings, bus.publisher("audit"))
            )
            # Every consumer is made: what all of them committed may be dropped.
            bus.seal()
            yield
        await stop_leftover_tasks()

    # A path no mount matches (a newline in it defeats even "/") answers JSON like the services.
    app = Starlette(lifespan=lifespan, exception_handlers={HTTPException: no_such_endpoint})
    in_process = service_calls.in_process(
        app, settings.in_process_calls, seconds=settings.answer_seconds
    )
    # The projector tells the gateway's waiting commands what it committed, in process.
    batches = CommittedBatches()
    apps: dict[Process, Starlette] = {
        p: FACTORIES[p](settings, bus)
        for p in Process
        if p not in (Process.gateway, Process.projector)
    }
    apps[Process.gateway] = gateway.create_app(settings, bus, services=in_process, batches=batches)
    apps[Process.projector] = projector.create_app(settings, bus, on_applied=batches)
    services = [
        Mount(f"/{p.value}", app=apps[p])
        for p in Process
        if p not in (Process.gateway, Process.projector)
    ]
    key = public_key_route(settings, generate=True)
    # One process, one readiness: every part's checks, named by the part (`elicitation.relay`);
    # each part's own /readyz stays under its mount.
    checks = {
        f"{p.value}.{name}": check
        for p in Process
        for name, check in apps[p].state.readiness.items()
    }
    # And one /metrics: every part's readings.
    readings = [part for p in Process for part in apps[p].state.readings]
    app.router.routes.extend(
        [
            *health_routes(checks),
            metrics_route(lambda: readings),
            *services,
            key,
            Mount("/", app=apps[Process.gateway]),
        ]
    )
    instrument_app(app)
    return app


def run(settings: Settings, *, demo: bool = False) -> None:
    """Start everything, print where, serve until Ctrl-C; the data stays in data_dir."""
    configure_logging(settings.log_level)
    collector.tune(settings.gc_threshold)
    configure_telemetry("accord")
    lost = threading.Event()

    def database_lost() -> None:
        """The embedded PostgreSQL keeps dying: stop as Ctrl-C does, and say why."""
        lost.set()
        os.kill(os.getpid(), signal.SIGINT)

    try:
        try:
            Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise pgdata.DataDirUnusable(Path(settings.data_dir), error) from None
        with database(settings, on_lost=database_lost) as ready:
            if not _port_free(ready.host, ready.port):
                console.print(
                    f"PORT_IN_USE: {ready.host}:{ready.port} is taken by another process; stop"
                    " it, or start Accord on another port (--port, ACCORD_PORT)",
                    highlight=False, soft_wrap=True,
                )  # fmt: skip
                raise SystemExit(1)
            console.print(f"database: {ready.database_url}")
            console.print(f"[bold]Accord GraphQL:[/bold] http://{ready.host}:{ready.port}/graphql")
            if demo:
                threading.Thread(target=_load_demo, args=(ready,), daemon=True).start()
            uvicorn.run(embedded_app(ready), host=ready.host, port=ready.port, log_level="warning")
    except pgdata.DataUnavailable as busy:
        console.print(f"{busy.code}: {busy}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None
    kept = str(Path(settings.data_dir).resolve())
    if lost.is_set():
        console.print(f"Accord stopped: its PostgreSQL kept dying (see the log); data in {kept}")
        raise SystemExit(1)
    console.print("Accord stopped; data kept in " + kept)


def _port_free(host: str, port: int) -> bool:
    """Whether the server can listen there: bound as uvicorn binds, then let go (a process
    that takes it in between still makes uvicorn fail, with its own message)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _load_demo(settings: Settings) -> None:
    """Once the server answers, load `accord demo` through its public API, unless the data
    already hold it (`make run DEMO=1` again on the same data); `accord demo` loads another."""
    from accord import demo

    base = f"http://{settings.host}:{settings.port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    if loaded := demo.already_loaded(base, settings):
        console.print(f"demo contract {loaded} is loaded already (`accord demo` loads another)")
        return
    demo.run(base, settings)
