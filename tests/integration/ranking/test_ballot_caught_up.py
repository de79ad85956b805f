"""A vote opens on the contract as elicitation had published it when the request came: ranking's
view applies that first, so an expectation made measurable just before is put to the vote. A
view that cannot get there within the wait (here: its offsets locked by someone else) refuses
the vote, BALLOT_CATCHING_UP, and nothing is opened; once it can, the vote opens on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from accord.processes import Process
from shared.projection import ProjectionRunner
from tests.integration.services_in_one import Services, services_in_one
from tests.integration.test_service_refusals_over_http import TERMS


@pytest.fixture(scope="module")
async def services(database_url: str) -> AsyncIterator[Services]:
    async with services_in_one(
        database_url, view_wait_seconds=1.0, read_your_writes_seconds=1.0
    ) as running:
        yield running


async def open_contract(services: Services) -> str:
    opened = await services.ok("am", "/elicitation/contracts", {
        "client_organisation": "Northwind Retail", "provider_organisation": "Contoso Services",
        "title": "Managed IT operations", "starts_on": "2026-12-01", "name": "Ann Manager",
        "role": "provider_account_manager",
    })  # fmt: skip
    contract: str = opened["id"]
    await services.ok("am", f"/elicitation/contracts/{contract}/participants", {
        "person_id": "dm", "name": "Dee Maker", "role": "client_decision_maker",
    })  # fmt: skip
    return contract


async def measurable(services: Services, contract: str, text: str) -> str:
    """An expectation proposed and made measurable; answers its id."""
    proposed = await services.ok(
        "dm", f"/elicitation/contracts/{contract}/expectations",
        {"text": text, "business_area": "stores"},
    )  # fmt: skip
    expectation: str = proposed["id"]
    await services.ok("am", f"/elicitation/expectations/{expectation}/refine", {
        "text": text, "terms": TERMS, "reason": "measurable",
    })  # fmt: skip
    return expectation


async def published(services: Services) -> None:
    """What elicitation stored is on the bus: what the gateway has waited for when it answers
    a mutation (its read models applied it), here without waiting for any view of ranking's."""
    runtime = services.apps[Process.elicitation].state.runtime
    stored = await runtime.executor.run(runtime.app.recorder.max_notification_id)
    async with asyncio.timeout(30):
        while await runtime.relay.positions.load() < stored:
            await asyncio.sleep(0.01)


async def open_vote(services: Services, contract: str) -> Any:
    return await services.post(
        "am", f"/ranking/contracts/{contract}/prioritizations", {"method": "borda"}
    )


async def put_to_the_vote(services: Services, opened: Any) -> list[str]:
    """The expectations of the prioritization just opened, as ranking holds it."""
    assert opened.status_code == 200, opened.text
    session = opened.json()["id"]
    shown = await services.http.get(
        f"/ranking/prioritizations/{session}", headers=services.auth("am")
    )
    assert shown.status_code == 200, shown.text
    return sorted(shown.json()["expectations"])


async def prioritizations(services: Services) -> int:
    """How many events ranking has stored."""
    ranking = services.apps[Process.ranking].state.runtime
    return len(await ranking.executor.run(ranking.app.recorder.select_notifications, 1, 10_000))


def contract_view(services: Services) -> ProjectionRunner:
    runners: list[ProjectionRunner] = services.apps[Process.ranking].state.views
    [runner] = [r for r in runners if r.name.endswith("contract-view")]
    return runner


async def test_a_vote_opened_at_once_puts_what_was_just_made_measurable(
    services: Services,
) -> None:
    contract = await open_contract(services)
    expectation = await measurable(services, contract, "Tills work all day")
    await published(services)
    opened = await open_vote(services, contract)  # no waiting for ranking's view
    assert await put_to_the_vote(services, opened) == [expectation]


async def test_a_vote_is_refused_while_the_view_cannot_get_there_and_nothing_is_opened(
    services: Services,
) -> None:
    contract = await open_contract(services)
    first = await measurable(services, contract, "Tills work all day")
    await services.caught_up()
    runner = contract_view(services)
    blocker = await asyncpg.connect(services.settings.database_url)
    try:
        held = blocker.transaction()
        await held.start()
        await blocker.execute(
            "SELECT * FROM ranking.projection_offsets WHERE projection = $1 FOR UPDATE",
            runner.name,
        )
        second = await measurable(services, contract, "Refunds within a day")
        await published(services)
        before = await prioritizations(services)
        refused = await open_vote(services, contract)
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "BALLOT_CATCHING_UP"
        assert await prioritizations(services) == before  # nothing opened
        await held.rollback()
    finally:
        await blocker.close()
    opened = await open_vote(services, contract)
    assert await put_to_the_vote(services, opened) == sorted([first, second])
