"""Elicitation's events on Kafka -> ranking's own view -> a session -> the published ranking."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import jsonschema
import pytest
from starlette.applications import Starlette

from services.elicitation.application import Elicitation
from services.ranking.api import create_app
from shared.auth import mint_token
from shared.bus_kafka import KafkaBus
from shared.envelope import Envelope
from shared.runtime import ServiceRuntime, build_runtime
from shared.schemas import registry
from shared.settings import Settings
from tests.integration.kafka_tools import read_topic

DECISION_MAKERS = {"cfo": "Finance", "cio": "IT", "coo": "Operations"}


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret="ranking-integration-secret-of-32-bytes",
    )


@pytest.fixture
async def elicitation(settings: Settings) -> AsyncIterator[ServiceRuntime[Elicitation]]:
    bus = KafkaBus(settings.kafka_bootstrap)
    runtime = await build_runtime("elicitation", Elicitation, settings, bus.publisher("elicit"))
    await runtime.start()
    yield runtime
    await runtime.stop()


@pytest.fixture
async def ranking(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: Starlette = create_app(settings, KafkaBus(settings.kafka_bootstrap))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ranking") as client:
            yield client


async def a_contract_with_measurable_expectations(
    elicitation: ServiceRuntime[Elicitation],
) -> tuple[str, list[str]]:
    app = elicitation.app

    async def run(command: Any, *args: Any, by: str, **kwargs: Any) -> Any:
        return await elicitation.execute(
            command, *args, by=by, actor_id=by, actor_role="t", **kwargs
        )

    opened = await run(
        app.open_contract, by="am", client_organisation="Northwind Retail",
        provider_organisation="Contoso Services", title="Managed IT operations",
        starts_on="2026-12-01", name="Ann Manager", role="provider_account_manager",
    )  # fmt: skip
    contract_id = opened.id
    first = next(iter(DECISION_MAKERS))  # the client's first person appoints the rest of it
    for person, department in DECISION_MAKERS.items():
        await run(
            app.join_contract, contract_id, by="am" if person == first else first,
            person_id=person,
            name=f"Head of {department}", role="client_decision_maker",
        )  # fmt: skip
    expectations = []
    for person, text, metric in [
        ("cio", "The service desk answers quickly", "first response time"),
        ("coo", "Systems are available in business hours", "availability"),
        ("cfo", "Monthly cost report is on time", "report delay"),
    ]:
        proposed = await run(
            app.propose_expectation, contract_id, by=person, text=text, business_area="ops"
        )
        terms = {
            "metric": metric, "comparison": "at_most", "target": "4", "unit": "hours",
            "recurrence": "monthly", "measurement_method": "ticket system report",
            "measured_by": "provider",
        }  # fmt: skip
        await run(
            app.refine_expectation, proposed.id, by="am", text=text, terms=terms,
            reason="made measurable",
        )  # fmt: skip
        expectations.append(str(proposed.id))
        if metric == "availability":
            # Before the last expectation: a view that knows all three knows the advice too
            # (a contract's events come in order), so `known_ballot` waits for it as well.
            await run(
                app.give_provider_advice, proposed.id, by="am",
                advice="Regulators look at this first", importance="critical",
            )  # fmt: skip
    return str(contract_id), expectations


def auth(settings: Settings, person: str) -> dict[str, str]:
    return {"authorization": f"Bearer {mint_token(settings, person)}"}


async def known_ballot(
    ranking: httpx.AsyncClient, settings: Settings, contract_id: str
) -> httpx.Response:
    """Ranking learns the contract only from Kafka: wait until its view knows the ballot."""
    async with asyncio.timeout(60):
        while True:
            ballot = await ranking.get(
                f"/contracts/{contract_id}/ballot", headers=auth(settings, "am")
            )
            if ballot.status_code == 200 and len(ballot.json()["expectations"]) == 3:
                return ballot
            await asyncio.sleep(0.2)


async def until_published(settings: Settings, contract_id: str) -> list[Envelope]:
    """The contract's ranking events on Kafka, once its corporate ranking is among them."""
    async with asyncio.timeout(60):
        while True:
            events = [
                m.envelope()
                for m in await read_topic(
                    settings.kafka_bootstrap, "accord.ranking.v1", key=contract_id
                )
            ]
            if any(e.type.endswith(".CorporatePrioritiesPublished.v1") for e in events):
                return events
            await asyncio.sleep(0.3)


async def test_votes_on_a_contracts_expectations_publish_its_corporate_ranking(
    settings: Settings, elicitation: ServiceRuntime[Elicitation], ranking: httpx.AsyncClient
) -> None:
    contract_id, (desk, availability, report) = await a_contract_with_measurable_expectations(
        elicitation
    )
    ballot = await known_ballot(ranking, settings, contract_id)
    assert sorted(ballot.json()["voters"]) == sorted(DECISION_MAKERS)
    opened = await ranking.post(
        f"/contracts/{contract_id}/prioritizations",
        json={"method": "schulze"},
        headers=auth(settings, "am"),
    )
    assert opened.status_code == 200, opened.text
    session = opened.json()["id"]

    ballots = {
        "cfo": [report, availability, desk],
        "cio": [desk, availability, report],
        "coo": [availability, desk, report],
    }
    for voter, ranking_order in ballots.items():
        cast = await ranking.post(
            f"/prioritizations/{session}/votes",
            json={"ranking": ranking_order},
            headers=auth(settings, voter),
        )
        assert cast.status_code == 200, cast.text
    outsider = await ranking.post(
        f"/prioritizations/{session}/votes",
        json={"ranking": ballots["cfo"]},
        headers=auth(settings, "am"),
    )
    assert (outsider.status_code, outsider.json()["code"]) == (403, "NOT_ELIGIBLE")

    closed = await ranking.post(
        f"/prioritizations/{session}/close", json={}, headers=auth(settings, "am")
    )
    assert closed.status_code == 200, closed.text

    events = await until_published(settings, contract_id)
    published = [e for e in events if e.type.endswith(".CorporatePrioritiesPublished.v1")]
    (event,) = published
    jsonschema.validate(event.data, registry.lookup(event.type).json_schema())
    assert event.data["ranking"] == [availability, desk, report]
    assert event.data["turnout"] == {"voted": 3, "eligible": 3}
    assert event.data["advice"][availability] == ["critical / Regulators look at this first"]
    assert event.actor_id == "am"


async def test_a_session_closes_at_its_closing_time_even_across_a_restart(
    settings: Settings, elicitation: ServiceRuntime[Elicitation]
) -> None:
    contract_id, (desk, availability, report) = await a_contract_with_measurable_expectations(
        elicitation
    )
    app: Starlette = create_app(settings, KafkaBus(settings.kafka_bootstrap))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as ranking,
    ):
        await known_ballot(ranking, settings, contract_id)
        closes_at = datetime.now(UTC) + timedelta(seconds=5)
        opened = await ranking.post(
            f"/contracts/{contract_id}/prioritizations",
            json={"method": "borda", "closes_at": closes_at.isoformat()},
            headers=auth(settings, "am"),
        )
        assert opened.status_code == 200, opened.text
        session = opened.json()["id"]
        for voter, order in {
            "cfo": [report, desk, availability],
            "cio": [desk, report, availability],
        }.items():
            cast = await ranking.post(
                f"/prioritizations/{session}/votes", json={"ranking": order},
                headers=auth(settings, voter),
            )  # fmt: skip
            assert cast.status_code == 200, cast.text
        # The service records the closing time from its own published event, then stops.
        conn = await asyncpg.connect(settings.database_url)
        try:
            async with asyncio.timeout(30):
                while not await conn.fetchval(
                    "SELECT count(*) FROM ranking.session_deadlines WHERE session_id = $1",
                    UUID(session),
                ):
                    await asyncio.sleep(0.2)
        finally:
            await conn.close()
    assert datetime.now(UTC) < closes_at, "the first process must stop before the closing time"
    await asyncio.sleep(max(0.0, (closes_at - datetime.now(UTC)).total_seconds()) + 0.5)

    # Started again after the closing time, nobody closing it by hand: it closes by itself.
    app = create_app(settings, KafkaBus(settings.kafka_bootstrap))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as ranking,
    ):
        events = await until_published(settings, contract_id)
        published = [e for e in events if e.type.endswith(".CorporatePrioritiesPublished.v1")]
        (closed,) = [e for e in events if e.type.endswith(".PrioritizationClosed.v1")]
        assert (closed.actor_id, closed.data["closed_by"]) == (
            "accord-scheduler",
            "accord-scheduler",
        )
        assert closed.time >= closes_at
        assert published[0].data["turnout"] == {"voted": 2, "eligible": 3}
        late = await ranking.post(
            f"/prioritizations/{session}/votes", json={"ranking": [desk, report, availability]},
            headers=auth(settings, "coo"),
        )  # fmt: skip
        assert (late.status_code, late.json()["code"]) == (409, "SESSION_CLOSED")
