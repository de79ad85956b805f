"""Signed baselines over the elicitation service's HTTP API, on real PostgreSQL and Kafka: the
agreed set frozen with the ranking the service learnt from ranking's events, signatures that
need a fresh login (judged by the service's injected clock), revocation, and the three
events a Kafka consumer receives, schema-valid, with a content hash it can recompute."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import jsonschema
import pytest

from services.elicitation.api import create_app
from shared.auth import mint_token
from shared.bus_kafka import KafkaBus
from shared.envelope import Envelope
from shared.schemas import registry
from shared.settings import Settings
from tests.integration.http_server import serving
from tests.integration.kafka_tools import read_topic

TERMS = {
    "metric": "availability in business hours", "comparison": "at_least", "target": "99.5",
    "unit": "percent", "recurrence": "monthly", "measurement_method": "monitoring report",
    "measured_by": "provider",
}  # fmt: skip


class Clock:
    """The service's clock, fixed for the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret="baselines-http-secret-of-32-bytes!!",
        signature_max_age_seconds=300,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def http(settings: Settings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, KafkaBus(settings.kafka_bootstrap), clock=clock)
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


def as_(settings: Settings, person: str) -> dict[str, str]:
    return {"authorization": f"Bearer {mint_token(settings, person)}"}


async def ok(
    http: httpx.AsyncClient, settings: Settings, person: str, path: str, body: Any
) -> dict[str, Any]:
    response = await http.post(path, json=body, headers=as_(settings, person))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def publish_ranking(settings: Settings, contract: str, expectation: str) -> None:
    """What the ranking service publishes when a vote closes, on its own topic."""
    spec = registry.latest("ranking", "CorporatePrioritiesPublished")
    data = dict(spec.example or {})
    data.update(contract_id=contract, ranking=[expectation])
    publisher = KafkaBus(settings.kafka_bootstrap).publisher("test-ranking")
    await publisher.start()
    try:
        await publisher.publish(spec.topic, [Envelope(
            id=str(uuid4()), type=spec.ce_type, source="/accord/ranking", subject=str(uuid4()),
            time=datetime.now(UTC), key=contract, data=spec.to_data(data),
        )])  # fmt: skip
    finally:
        await publisher.stop()


async def view_holds_ranking(database_url: str, contract: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        async with asyncio.timeout(60):
            while not await conn.fetchval(
                "SELECT count(*) FROM elicitation.view_published_rankings WHERE contract_id = $1",
                contract,
            ):
                await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def baseline_events(settings: Settings, contract: str, count: int) -> list[Envelope]:
    async with asyncio.timeout(60):
        while True:
            found = [
                m.envelope()
                for m in await read_topic(
                    settings.kafka_bootstrap, "accord.elicitation.v1", key=contract
                )
            ]
            baselines = [e for e in found if e.type.split(".")[2].startswith("Baseline")]
            if len(baselines) >= count:
                return baselines
            await asyncio.sleep(0.2)


async def test_a_baseline_is_proposed_signed_with_fresh_logins_and_revoked_over_http(
    http: httpx.AsyncClient, settings: Settings, clock: Clock, database_url: str
) -> None:
    contract = (await ok(http, settings, "am", "/contracts", {
        "client_organisation": "Northwind Retail", "provider_organisation": "Contoso Services",
        "title": "Managed IT operations", "starts_on": "2026-12-01", "name": "Ann Manager",
        "role": "provider_account_manager",
    }))["id"]  # fmt: skip
    participants = f"/contracts/{contract}/participants"
    await ok(http, settings, "am", participants, {
        "person_id": "sponsor", "name": "Sam Sponsor", "role": "client_sponsor"})  # fmt: skip
    await ok(http, settings, "sponsor", participants, {
        "person_id": "cfo", "name": "Chris Finance", "role": "client_decision_maker"})  # fmt: skip
    expectation = (await ok(http, settings, "cfo", f"/contracts/{contract}/expectations", {
        "text": "Tills work all day", "business_area": "stores"}))["id"]  # fmt: skip
    await ok(http, settings, "am", f"/expectations/{expectation}/refine", {
        "text": "Tills are available in business hours", "terms": TERMS, "reason": "measurable",
    })  # fmt: skip
    await ok(http, settings, "am", f"/expectations/{expectation}/commit", {})
    await publish_ranking(settings, contract, expectation)
    await view_holds_ranking(database_url, contract)

    proposed = await ok(
        http, settings, "am", f"/contracts/{contract}/baselines", {"title": "Scope at signature"}
    )
    baseline_id = proposed["id"]
    shown = (await http.get(f"/baselines/{baseline_id}", headers=as_(settings, "cfo"))).json()
    assert [e["expectation_id"] for e in shown["content"]["expectations"]] == [expectation]
    assert shown["content"]["ranking"]["ranking"] == [expectation]
    assert shown["status"] == "proposed" and shown["signatures"] == []

    signatures = f"/baselines/{baseline_id}/signatures"
    await ok(http, settings, "sponsor", signatures, {"meaning": "approved"})
    # The account manager's login of six minutes ago, by the service's clock, is too old.
    six_minutes_ago = int((clock.now - timedelta(minutes=6)).timestamp())
    token = mint_token(settings, "am", issued_at=six_minutes_ago)
    stale = await http.post(
        signatures, json={"meaning": "responsible"}, headers={"authorization": f"Bearer {token}"}
    )
    assert stale.status_code == 401
    assert stale.json()["code"] == "REAUTHENTICATION_REQUIRED"
    fresh = mint_token(settings, "am", issued_at=int(clock.now.timestamp()) - 60)
    signed = await http.post(
        signatures, json={"meaning": "responsible"}, headers={"authorization": f"Bearer {fresh}"}
    )
    assert signed.status_code == 200, signed.text
    shown = (await http.get(f"/baselines/{baseline_id}", headers=as_(settings, "am"))).json()
    assert shown["status"] == "complete"
    assert {s["printed_name"] for s in shown["signatures"]} == {"Sam Sponsor", "Ann Manager"}

    await ok(http, settings, "sponsor", f"/baselines/{baseline_id}/revoke", {"reason": "Redo"})
    again = await http.post(
        f"/baselines/{baseline_id}/revoke", json={"reason": "Twice"}, headers=as_(settings, "am")
    )
    assert again.status_code == 422 and again.json()["code"] == "BASELINE_REVOKED"

    events = await baseline_events(settings, contract, 4)
    names = [e.type.split(".")[2] for e in events]
    assert names == ["BaselineProposed", "BaselineSigned", "BaselineSigned", "BaselineRevoked"]
    for envelope in events:
        jsonschema.validate(envelope.data, envelope.spec.json_schema())
    first = events[0].data
    canonical = json.dumps(first["content"], sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode()).hexdigest() == first["content_hash"]
    assert events[1].data["content_hash"] == first["content_hash"]
    assert [e.data["complete"] for e in events[1:3]] == [False, True]
