"""On PostgreSQL, through the service's HTTP API: a command on a contract with a long history
loads it from a snapshot (in its own table) and the few events after it, answers as before, and
the events published are the events stored, no snapshot among them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from eventsourcing.application import project_aggregate

from services.elicitation.api import create_app
from services.elicitation.application import Elicitation
from services.elicitation.snapshots import SNAPSHOT_EVERY
from shared.auth import mint_token
from shared.bus_memory import InProcessBus
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.integration.services_in_one import own_database

TOPIC = "accord.elicitation.v1"


class Service:
    def __init__(
        self, http: httpx.AsyncClient, settings: Settings, bus: InProcessBus, app: Elicitation
    ) -> None:
        self.http, self.settings, self.bus, self.app = http, settings, bus, app

    async def ok(self, person: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"authorization": f"Bearer {mint_token(self.settings, person)}"}
        if body is None:
            response = await self.http.get(path, headers=headers)
        else:
            response = await self.http.post(path, json=body, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[Service]:
    settings = Settings(
        database_url=await own_database(database_url),
        jwt_secret="snapshots-over-http-secret-32-byte",
        # Every load cold, as after a restart or once evicted from the cache of loaded
        # aggregates: what these tests count is what a load reads from the store.
        aggregate_cache_size=0,
    )
    bus = InProcessBus()
    app = create_app(settings, bus)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://svc") as http,
    ):
        runtime: ServiceRuntime[Elicitation] = app.state.runtime
        yield Service(http, settings, bus, runtime.app)


async def a_contract_with_history(service: Service, events: int) -> str:
    """A contract, its decision maker, and `events` more events: provider people come and go."""
    opened = await service.ok("am", "/contracts", {
        "client_organisation": "Northwind", "provider_organisation": "Contoso",
        "title": "Operations", "starts_on": "2027-01-01", "name": "Ann",
        "role": "provider_account_manager",
    })  # fmt: skip
    contract = str(opened["id"])
    await service.ok("am", f"/contracts/{contract}/participants", {
        "person_id": "cfo", "name": "Chris", "role": "client_decision_maker",
    })  # fmt: skip
    for number in range(events):
        person = f"lead{number // 2}"
        if number % 2 == 0:
            await service.ok("am", f"/contracts/{contract}/participants", {
                "person_id": person, "name": "Lee", "role": "provider_delivery_lead",
            })  # fmt: skip
        else:
            await service.ok(
                "am", f"/contracts/{contract}/participants/leave", {"person_id": person}
            )
    return contract


async def test_a_command_on_a_long_contract_loads_from_its_snapshot(service: Service) -> None:
    contract = await a_contract_with_history(service, 2 * SNAPSHOT_EVERY + 5)
    read: list[int] = []
    get = service.app.repository.event_store.get

    def counting(*args: Any, **kwargs: Any) -> Any:
        events = list(get(*args, **kwargs))
        read.append(len(events))
        return events

    service.app.repository.event_store.get = counting  # type: ignore[method-assign]
    proposed = await service.ok("cfo", f"/contracts/{contract}/expectations", {
        "text": "Reports arrive on time", "business_area": "finance",
    })  # fmt: skip

    assert proposed["version"] == 1
    assert read and sum(read) < SNAPSHOT_EVERY
    conn = await asyncpg.connect(service.settings.database_url)
    try:
        snapshotted = await conn.fetchval(
            "SELECT max(originator_version) FROM elicitation.elicitation_snapshots"
            " WHERE originator_id = $1",
            UUID(contract),
        )
    finally:
        await conn.close()
    assert snapshotted == 2 * SNAPSHOT_EVERY


async def test_a_snapshotted_contract_is_the_one_its_events_rebuild(service: Service) -> None:
    contract = await a_contract_with_history(service, SNAPSHOT_EVERY + 4)

    shown = await service.ok("am", f"/contracts/{contract}")
    loaded = await asyncio.to_thread(service.app.get_contract, contract)

    replayed = project_aggregate(None, service.app.events.get(UUID(contract)))
    assert vars(loaded) == vars(replayed)
    assert shown["version"] == replayed.version == SNAPSHOT_EVERY + 7
    assert [p["person_id"] for p in shown["participants"]] == ["am", "cfo"]


async def test_what_is_published_is_every_event_stored_and_no_snapshot(service: Service) -> None:
    contract = await a_contract_with_history(service, SNAPSHOT_EVERY)
    stored = len(list(service.app.events.get(UUID(contract))))

    async with asyncio.timeout(30):
        while len(service.bus.log(TOPIC)) < stored:
            await asyncio.sleep(0.05)

    published = service.bus.log(TOPIC)
    assert len(published) == stored
    assert {m.envelope().key for m in published} == {contract}
