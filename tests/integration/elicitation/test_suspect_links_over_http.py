"""Suspect links over the elicitation service's own HTTP API, on real PostgreSQL and Kafka:
rewording a committed expectation flags all five kinds of item that rested on it (the
commitment, an obligation, a risk, a signed baseline, the published ranking); a Kafka
consumer receives each LinkSuspected and then each SuspectReviewed, valid against their JSON
Schemas; `/suspects/{item_id}/review` clears an item's flags, only for those who may decide it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jsonschema
import pytest

from services.elicitation.api import create_app
from shared.bus_kafka import KafkaBus
from shared.envelope import Envelope
from shared.settings import Settings
from tests.integration.elicitation.test_baselines_over_http import (
    TERMS,
    Clock,
    as_,
    ok,
    publish_ranking,
    view_holds_ranking,
)
from tests.integration.http_server import serving
from tests.integration.kafka_tools import read_topic

SUSPECT_EVENTS = ("LinkSuspected", "SuspectReviewed")


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret="suspect-links-http-secret-32-bytes!",
    )


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, KafkaBus(settings.kafka_bootstrap), clock=Clock())
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


async def suspect_events(settings: Settings, contract: str, count: int) -> list[Envelope]:
    """The contract's suspect-link events a consumer reads from the topic, once `count` came."""
    async with asyncio.timeout(60):
        while True:
            found = [
                m.envelope()
                for m in await read_topic(
                    settings.kafka_bootstrap, "accord.elicitation.v1", key=contract
                )
            ]
            suspects = [e for e in found if e.spec.name in SUSPECT_EVENTS]
            if len(suspects) >= count:
                return suspects
            await asyncio.sleep(0.2)


async def review(
    http: httpx.AsyncClient, settings: Settings, person: str, item: str, outcome: str
) -> httpx.Response:
    return await http.post(
        f"/suspects/{item}/review",
        json={"outcome": outcome, "reason": "Checked against the new terms"},
        headers=as_(settings, person),
    )


async def test_rewording_flags_five_kinds_a_consumer_receives_and_reviews_clear_them(
    http: httpx.AsyncClient,
    settings: Settings,
    database_url: str,
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
    await ok(http, settings, "am", participants, {
        "person_id": "lead", "name": "Lee Lead", "role": "provider_delivery_lead"})  # fmt: skip
    expectation = (await ok(http, settings, "cfo", f"/contracts/{contract}/expectations", {
        "text": "Tills work all day", "business_area": "stores"}))["id"]  # fmt: skip
    refine = f"/expectations/{expectation}/refine"
    await ok(http, settings, "am", refine, {
        "text": "Tills are available in business hours", "terms": TERMS, "reason": "measurable",
    })  # fmt: skip
    await ok(http, settings, "am", f"/expectations/{expectation}/commit", {})
    obligation = (await ok(http, settings, "am", f"/contracts/{contract}/obligations", {
        "what": "Read access to till monitoring", "needed_from": "cfo", "due_on": "2027-01-15",
        "depends_on": [expectation]}))["id"]  # fmt: skip
    risk = (await ok(http, settings, "lead", f"/contracts/{contract}/risks", {
        "kind": "problem", "title": "Peak load", "description": "December doubles the load",
        "likelihood": 3, "impact": 4, "affected_expectations": [expectation]}))["id"]  # fmt: skip
    await publish_ranking(settings, contract, expectation)
    await view_holds_ranking(database_url, contract)
    baseline = (await ok(http, settings, "am", f"/contracts/{contract}/baselines", {
        "title": "Scope at signature"}))["id"]  # fmt: skip

    await ok(http, settings, "am", refine, {
        "text": "Tills are available in all opening hours", "reason": "stores open on Sunday",
        "terms": {**TERMS, "target": "99.9"}})  # fmt: skip

    raised = await suspect_events(settings, contract, 5)
    assert {(e.data["kind"], e.data["item_id"]) for e in raised} == {
        ("commitment", expectation), ("obligation", obligation), ("risk", risk),
        ("baseline", baseline), ("ranking", contract),
    }  # fmt: skip
    for envelope in raised:
        jsonschema.validate(envelope.data, envelope.spec.json_schema())
        assert envelope.spec.name == "LinkSuspected" and envelope.key == contract
        assert (envelope.data["from_revision"], envelope.data["revision"]) == (2, 3)
        assert envelope.data["changes"] == [
            {"field": "text", "before": "Tills are available in business hours",
             "after": "Tills are available in all opening hours"},
            {"field": "terms.target", "before": "99.5", "after": "99.9"},
        ]  # fmt: skip
    owners = {e.data["kind"]: e.data["owner"] for e in raised}
    assert owners == {
        "commitment": "", "obligation": "am", "risk": "lead", "baseline": "am", "ranking": "",
    }  # fmt: skip

    # The client's sponsor may not decide the provider's risk; nothing is stored.
    refused = await review(http, settings, "sponsor", risk, "still_valid")
    assert (refused.status_code, refused.json()["code"]) == (403, "NOT_PERMITTED")
    reviewed = await review(http, settings, "lead", risk, "needs_change")
    assert reviewed.status_code == 200, reviewed.text
    # The ranking is the client's scope: its decision maker reviews it.
    assert (await review(http, settings, "cfo", contract, "still_valid")).status_code == 200
    # Reviewed once, the risk's flag is gone; an id that was never flagged is unknown too.
    again = await review(http, settings, "lead", risk, "still_valid")
    assert (again.status_code, again.json()["code"]) == (404, "UNKNOWN_SUSPECT")
    bad = await http.post(
        "/suspects/not-an-id/review", json={"outcome": "still_valid", "reason": "x"},
        headers=as_(settings, "lead"),
    )  # fmt: skip
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_INPUT"
    wrong: dict[str, Any] = {"outcome": "fine", "reason": "x"}
    badly = await http.post(
        f"/suspects/{obligation}/review", json=wrong, headers=as_(settings, "cfo")
    )
    assert (badly.status_code, badly.json()["code"]) == (422, "INVALID_INPUT")

    cleared = (await suspect_events(settings, contract, 7))[5:]
    assert [(e.spec.name, e.data["item_id"], e.data["outcome"]) for e in cleared] == [
        ("SuspectReviewed", risk, "needs_change"),
        ("SuspectReviewed", contract, "still_valid"),
    ]
    for envelope in cleared:
        jsonschema.validate(envelope.data, envelope.spec.json_schema())
    # Each review clears the very flag it names: the same aggregate as its LinkSuspected.
    by_item = {e.data["item_id"]: e.subject for e in raised}
    assert [e.subject for e in cleared] == [by_item[risk], by_item[contract]]
    assert [e.data["reviewed_by"] for e in cleared] == ["lead", "cfo"]
