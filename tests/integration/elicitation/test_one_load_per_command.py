"""A command through the elicitation service's HTTP API loads each aggregate it needs once: the
role check and the command share what they load, and the role the actor held on the contract
is what its events are stamped with."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import httpx
import pytest
from eventsourcing.application import Repository

from services.elicitation.api import create_app
from services.elicitation.application import Elicitation
from shared.auth import mint_token
from shared.bus_memory import InProcessBus
from shared.provenance import provenance_of
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.integration.services_in_one import own_database

ADMIN = "root@accord.example"


class Api:
    """The service's HTTP API, and a count of the aggregates each request loads."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings, app: Elicitation) -> None:
        self.http = http
        self.settings = settings
        self.app = app
        self.loads: Counter[UUID] = Counter()

    async def ok(self, person: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.call(person, path, body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def call(
        self, person: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        headers = {"authorization": f"Bearer {mint_token(self.settings, person)}"}
        self.loads.clear()
        if body is None:
            return await self.http.get(path, headers=headers)
        return await self.http.post(path, json=body, headers=headers)

    def roles_stamped(self, aggregate_id: str) -> list[str]:
        return [provenance_of(e)["actor_role"] for e in self.app.events.get(UUID(aggregate_id))]


@pytest.fixture
async def api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    settings = Settings(
        database_url=await own_database(database_url),
        jwt_secret="one-load-per-command-secret-32-by",
        administrators=frozenset({ADMIN}),
    )
    app = create_app(settings, InProcessBus())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://svc") as http,
    ):
        runtime: ServiceRuntime[Elicitation] = app.state.runtime
        counted = Api(http, settings, runtime.app)
        get = Repository.get

        def counting(repository: Repository[UUID], aggregate_id: UUID, **kw: Any) -> Any:
            counted.loads[aggregate_id] += 1
            return get(repository, aggregate_id, **kw)

        monkeypatch.setattr(Repository, "get", counting)
        yield counted


async def a_contract(api: Api) -> str:
    opened = await api.ok("am", "/contracts", {
        "client_organisation": "Northwind", "provider_organisation": "Contoso",
        "title": "Operations", "starts_on": "2027-01-01", "name": "Ann",
        "role": "provider_account_manager",
    })  # fmt: skip
    contract = str(opened["id"])
    await api.ok("am", f"/contracts/{contract}/participants", {
        "person_id": "cfo", "name": "Chris", "role": "client_decision_maker",
    })  # fmt: skip
    return contract


async def test_proposing_an_expectation_loads_the_contract_once(api: Api) -> None:
    contract = await a_contract(api)

    proposed = await api.ok("cfo", f"/contracts/{contract}/expectations", {
        "text": "Reports arrive on time", "business_area": "finance",
    })  # fmt: skip

    assert api.loads == {UUID(contract): 1}
    assert api.roles_stamped(proposed["id"]) == ["client_decision_maker"]


async def test_a_command_on_an_expectation_loads_it_and_its_contract_once_each(api: Api) -> None:
    contract = await a_contract(api)
    proposed = await api.ok("cfo", f"/contracts/{contract}/expectations", {
        "text": "Reports arrive on time", "business_area": "finance",
    })  # fmt: skip

    await api.ok("am", f"/expectations/{proposed['id']}/advice", {"advice": "Feasible"})

    assert api.loads == {UUID(contract): 1, UUID(proposed["id"]): 1}
    assert api.roles_stamped(proposed["id"])[-1] == "provider_account_manager"


async def test_reading_an_expectation_loads_it_and_its_contract_once_each(api: Api) -> None:
    contract = await a_contract(api)
    proposed = await api.ok("cfo", f"/contracts/{contract}/expectations", {
        "text": "Reports arrive on time", "business_area": "finance",
    })  # fmt: skip

    shown = await api.call("am", f"/expectations/{proposed['id']}")

    assert shown.status_code == 200 and shown.json()["text"] == "Reports arrive on time"
    assert api.loads == {UUID(contract): 1, UUID(proposed["id"]): 1}
    refused = await api.call("stranger", f"/expectations/{proposed['id']}")
    assert (refused.status_code, refused.json()["code"]) == (403, "NOT_A_PARTICIPANT")


async def test_who_leaves_on_their_own_is_stamped_with_the_role_they_held(api: Api) -> None:
    contract = await a_contract(api)
    await api.ok("cfo", f"/contracts/{contract}/participants", {  # the client's first person
        "person_id": "cio", "name": "Ines", "role": "client_decision_maker",
    })  # fmt: skip

    await api.ok("cio", f"/contracts/{contract}/participants/leave", {"person_id": "cio"})

    assert api.loads == {UUID(contract): 1}
    assert api.roles_stamped(contract)[-1] == "client_decision_maker"


async def test_an_administrator_not_on_the_contract_is_stamped_as_one(api: Api) -> None:
    contract = await a_contract(api)

    await api.ok(ADMIN, f"/contracts/{contract}/participants", {
        "person_id": "sponsor", "name": "Grace", "role": "client_sponsor",
    })  # fmt: skip

    assert api.roles_stamped(contract) == [
        "provider_account_manager", "provider_account_manager",  # opened, and Ann joined
        "provider_account_manager",  # cfo joined
        "administrator",
    ]  # fmt: skip
