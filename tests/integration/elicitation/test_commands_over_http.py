"""Elicitation over real HTTP, on real PostgreSQL and Kafka: events, errors and concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jsonschema
import pytest

from services.elicitation.api import create_app
from shared.auth import mint_token
from shared.bus_kafka import KafkaBus
from shared.schemas import registry
from shared.settings import Settings
from tests.integration.http_server import serving
from tests.integration.kafka_tools import read_topic

TOPIC = "accord.elicitation.v1"
TERMS = {
    "metric": "availability in business hours",
    "comparison": "at_least",
    "target": "99.5",
    "unit": "percent",
    "recurrence": "monthly",
    "measurement_method": "monitoring report",
    "measured_by": "provider",
}


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret="elicitation-http-secret-of-32-bytes!",
    )


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Client]:
    app = create_app(settings, KafkaBus(settings.kafka_bootstrap))
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield Client(http, settings)


class Client:
    """Speaks to the service as a given person."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    async def post(self, person: str, path: str, body: Any) -> httpx.Response:
        token = mint_token(self.settings, person)
        return await self.http.post(path, json=body, headers={"authorization": f"Bearer {token}"})

    async def ok(self, person: str, path: str, body: Any) -> dict[str, Any]:
        response = await self.post(person, path, body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


async def a_contract(api: Client) -> str:
    opened = await api.ok("am", "/contracts", {
        "client_organisation": "Northwind Retail", "provider_organisation": "Contoso Services",
        "title": "Managed IT operations", "starts_on": "2026-12-01", "name": "Ann Manager",
        "role": "provider_account_manager", "email": "ann@contoso.example",
    })  # fmt: skip
    contract = opened["id"]
    await api.ok("am", f"/contracts/{contract}/participants", {
        "person_id": "cfo", "name": "Chris Finance", "role": "client_decision_maker",
    })  # fmt: skip
    return str(contract)


async def published(settings: Settings, contract: str, count: int) -> list[Any]:
    async with asyncio.timeout(60):
        while True:
            envelopes = [
                m.envelope()
                for m in await read_topic(settings.kafka_bootstrap, TOPIC, key=contract)
            ]
            if len(envelopes) >= count:
                return envelopes
            await asyncio.sleep(0.2)


async def test_commands_over_http_publish_schema_valid_events_in_order(
    api: Client, settings: Settings
) -> None:
    contract = await a_contract(api)
    proposed = await api.ok("cfo", f"/contracts/{contract}/expectations", {
        "text": "Tills work all day", "business_area": "stores", "why_it_matters": "lost sales",
    })  # fmt: skip
    expectation = proposed["id"]
    assert proposed["version"] == 1 and len(proposed["positions"]) == 1
    refined = await api.ok("am", f"/expectations/{expectation}/refine", {
        "text": "Tills are available in business hours", "terms": TERMS, "reason": "made measurable",
        "expected_version": 1,
    })  # fmt: skip
    assert refined["version"] == 2 and refined["positions"][0] > proposed["positions"][0]
    await api.ok(
        "am",
        f"/expectations/{expectation}/advice",
        {"advice": "Top for stores", "importance": "critical"},
    )
    obligation = (await api.ok("am", f"/contracts/{contract}/obligations", {
        "what": "Remote access to the store network", "needed_from": "cfo", "due_on": "2026-12-15",
        "depends_on": [expectation],
    }))["id"]  # fmt: skip
    await api.ok("cfo", f"/obligations/{obligation}/accept", {})
    risk = (await api.ok("am", f"/contracts/{contract}/risks", {
        "kind": "preconditioning", "title": "Peak season load", "description": "December traffic",
        "likelihood": 3, "impact": 4, "affected_expectations": [expectation],
        "prepare_for": "slower tills on Saturdays",
    }))["id"]  # fmt: skip
    await api.ok("cfo", f"/risks/{risk}/acknowledge", {})
    measured = await api.ok("am", f"/expectations/{expectation}/measurements", {
        "period_start": "2026-12-01", "period_end": "2026-12-31", "value": "98.1", "source": "monitoring",
    })  # fmt: skip
    assert measured["created"]

    envelopes = await published(settings, contract, 11)
    names = [e.type.split(".")[2] for e in envelopes]
    assert (
        names
        == [
            "ContractOpened",
            "ParticipantJoined",
            "ParticipantJoined",
            "ExpectationProposed",
            "ExpectationRefined",
            "ProviderAdviceGiven",
            "ObligationProposed",
            "ObligationAccepted",
            "RiskDisclosed",
            "RiskAcknowledged",
            "MeasurementRecorded",
        ][: len(names)]
        and len(names) == 11
    )
    for envelope in envelopes:
        jsonschema.validate(envelope.data, registry.lookup(envelope.type).json_schema())
        assert envelope.key == contract and envelope.actor_id in {"am", "cfo"}
    measurement = envelopes[-1].data
    assert (measurement["met"], measurement["shortfall"]) == (False, "1.4")
    assert envelopes[4].actor_role == "provider_account_manager"


async def test_bad_input_gets_a_clear_typed_error_and_stores_nothing(
    api: Client, settings: Settings
) -> None:
    contract = await a_contract(api)
    path = f"/contracts/{contract}/expectations"
    empty = await api.post("cfo", path, {"text": "  ", "business_area": "stores"})
    assert (empty.status_code, empty.json()["code"]) == (422, "TEXT_EMPTY")
    too_long = await api.post("cfo", path, {"text": "x" * 2001, "business_area": "stores"})
    assert too_long.json()["code"] == "TEXT_TOO_LONG"
    stranger = await api.post("mallory", path, {"text": "Free coffee", "business_area": "x"})
    assert (stranger.status_code, stranger.json()["code"]) == (403, "NOT_A_PARTICIPANT")
    unknown = await api.post(
        "cfo",
        "/contracts/00000000-0000-0000-0000-000000000000/expectations",
        {"text": "t", "business_area": "b"},
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "UNKNOWN_CONTRACT")
    extra = await api.post("cfo", path, {"text": "t", "business_area": "b", "priority": 1})
    assert (extra.status_code, extra.json()["code"]) == (422, "INVALID_INPUT")
    not_json = await api.http.post(
        path, content=b"{", headers={"authorization": f"Bearer {mint_token(settings, 'cfo')}"}
    )
    assert (not_json.status_code, not_json.json()["code"]) == (400, "BAD_JSON")
    no_token = await api.http.post(path, json={"text": "t", "business_area": "b"})
    assert (no_token.status_code, no_token.json()["code"]) == (401, "UNAUTHENTICATED")

    expectation = (await api.ok("cfo", path, {"text": "Tills work", "business_area": "stores"}))[
        "id"
    ]
    inverted = await api.post("am", f"/expectations/{expectation}/refine", {
        "text": "Tills work", "terms": {**TERMS, "comparison": "within_range", "target": "10", "target_upper": "5"},
        "reason": "range",
    })  # fmt: skip
    assert inverted.json()["code"] == "TARGET_RANGE_INVERTED"
    stale = await api.post("am", f"/expectations/{expectation}/refine", {
        "text": "Tills work", "terms": TERMS, "reason": "r", "expected_version": 7,
    })  # fmt: skip
    assert (stale.status_code, stale.json()["code"]) == (409, "CONFLICT")
    # Nothing refused was stored: only the contract, the two joins and the one proposal.
    assert len(await published(settings, contract, 3)) == 3 + 1


async def test_concurrent_refinements_each_land_or_are_refused_and_none_is_lost(
    api: Client, settings: Settings
) -> None:
    contract = await a_contract(api)
    expectation = (
        await api.ok(
            "cfo",
            f"/contracts/{contract}/expectations",
            {"text": "Tills work", "business_area": "stores"},
        )
    )["id"]
    attempts = 12
    answers = await asyncio.gather(*(
        api.post("am", f"/expectations/{expectation}/refine", {"text": f"Wording {n}", "terms": TERMS, "reason": f"attempt {n}"})
        for n in range(attempts)
    ))  # fmt: skip
    landed = [n for n, a in enumerate(answers) if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    assert all(a.status_code == 409 and a.json()["code"] == "CONFLICT" for a in refused)
    assert len(landed) + len(refused) == attempts and landed
    versions = sorted(answers[n].json()["version"] for n in landed)
    assert versions == list(range(2, 2 + len(landed)))  # each landed as its own new version
    envelopes = await published(settings, contract, 4 + len(landed))
    wordings = {e.data["text"] for e in envelopes if e.type.endswith("ExpectationRefined.v1")}
    assert wordings == {f"Wording {n}" for n in landed}  # every landed refinement is on Kafka
