"""Every service and the gateway's projector in one process, as the embedded default runs them
(one in-process bus, real PostgreSQL), on a database of their own, served over real HTTP.

The services are called through their own HTTP APIs (`/elicitation/...`, `/ranking/...`,
`/notifications/...`); `caught_up` waits until every read model has applied every stored event,
and `dead_letters` says what any projection could not apply.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from accord.processes import FACTORIES, Process
from shared.auth import mint_token
from shared.bus_memory import InProcessBus
from shared.projection import ProjectionRunner
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.integration.http_server import serving

SERVICES = (Process.elicitation, Process.ranking, Process.notifications)


@dataclass
class Services:
    """The running services: speak to them as anyone, and see how far their events got."""

    http: httpx.AsyncClient
    settings: Settings
    bus: InProcessBus
    apps: dict[Process, Starlette]

    def auth(self, person: str) -> dict[str, str]:
        return {"authorization": f"Bearer {mint_token(self.settings, person)}"}

    async def post(self, person: str, path: str, body: Any) -> httpx.Response:
        return await self.http.post(path, json=body, headers=self.auth(person))

    async def ok(self, person: str, path: str, body: Any) -> dict[str, Any]:
        response = await self.post(person, path, body)
        assert response.status_code == 200, (path, body, response.text)
        answer: dict[str, Any] = response.json()
        return answer

    def runners(self) -> list[ProjectionRunner]:
        """Every projection: the gateway's read models, and each service's own views."""
        views = [runner for p in SERVICES for runner in self.apps[p].state.views]
        return [self.apps[Process.projector].state.projector, *views]

    async def caught_up(self, seconds: float = 30) -> None:
        """Until each service has published every event it stored and every projection has
        committed every event published."""
        async with asyncio.timeout(seconds):
            while not await self._settled():
                await asyncio.sleep(0.05)

    async def _settled(self) -> bool:
        for process in SERVICES:
            runtime: ServiceRuntime[Any] = self.apps[process].state.runtime
            stored = await runtime.executor.run(runtime.app.recorder.max_notification_id)
            if await runtime.relay.positions.load() < (stored or 0):
                return False
        for runner in self.runners():
            partitions = sorted(runner.consumer.assignment())
            committed = await runner.stored_offsets(partitions)
            if any(committed[p] < len(self.bus.log(p.topic)) for p in partitions):
                return False
        return True

    async def dead_letters(self) -> list[dict[str, Any]]:
        """What any projection set aside, and why."""
        found: list[dict[str, Any]] = []
        for runner in self.runners():
            rows = await runner.pool.fetch(
                "SELECT projection, ce_type, error_type, reason FROM dead_letters"
                " WHERE projection = $1 ORDER BY id",
                runner.name,
            )
            found.extend(dict(r) for r in rows)
        return found

    def failing(self) -> list[str]:
        """Projections whose last batch failed (they retry rather than dead-letter)."""
        return [f"{r.name}: {r.last_error}" for r in self.runners() if r.last_error]


async def own_database(database_url: str) -> str:
    """A new, empty database on the same server: nothing from other tests, no offsets of theirs."""
    name = f"services_{uuid4().hex[:10]}"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))


@contextlib.asynccontextmanager
async def services_in_one(database_url: str, **settings: Any) -> AsyncIterator[Services]:
    """The three services and the projector, composed as the embedded default composes them."""
    configured = Settings(
        database_url=await own_database(database_url),
        jwt_secret="services-in-one-process-secret-32by",
        graphql_ide=False,
        **settings,
    )
    bus = InProcessBus()
    apps = {
        process: FACTORIES[process](configured, bus) for process in (*SERVICES, Process.projector)
    }

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    routes = [Mount(f"/{p.value}", app=apps[p]) for p in SERVICES]
    composed = Starlette(routes=routes, lifespan=lifespan)
    async with serving(composed) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield Services(http, configured, bus, apps)
