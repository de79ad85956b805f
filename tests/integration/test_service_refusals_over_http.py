"""What the services refuse over their HTTP APIs, as typed answers ({code, message, details},
4xx), never an internal error, and never after storing anything a read model could not hold."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import jwt
import pytest

from tests.integration.services_in_one import SERVICES, Services, services_in_one

TERMS = {
    "metric": "availability in business hours", "comparison": "at_least", "target": "99.5",
    "unit": "percent", "recurrence": "monthly", "measurement_method": "monitoring report",
}  # fmt: skip


@pytest.fixture(scope="module")
async def services(database_url: str) -> AsyncIterator[Services]:
    async with services_in_one(database_url) as running:
        yield running


@pytest.fixture(scope="module")
async def contract(services: Services) -> dict[str, str]:
    """A contract with an account manager (am) and a decision maker (dm), a measurable
    expectation, and an obligation; every service knows it."""
    opened = await services.ok("am", "/elicitation/contracts", {
        "client_organisation": "Northwind Retail", "provider_organisation": "Contoso Services",
        "title": "Managed IT operations", "starts_on": "2026-12-01", "name": "Ann Manager",
        "role": "provider_account_manager", "email": "ann@contoso.example",
    })  # fmt: skip
    contract = opened["id"]
    await services.ok("am", f"/elicitation/contracts/{contract}/participants", {
        "person_id": "dm", "name": "Dee Maker", "role": "client_decision_maker",
    })  # fmt: skip
    expectation = (await services.ok("dm", f"/elicitation/contracts/{contract}/expectations", {
        "text": "Tills work all day", "business_area": "stores",
    }))["id"]  # fmt: skip
    await services.ok("am", f"/elicitation/expectations/{expectation}/refine", {
        "text": "Tills are available in business hours", "terms": TERMS, "reason": "measurable",
    })  # fmt: skip
    obligation = (await services.ok("am", f"/elicitation/contracts/{contract}/obligations", {
        "what": "Remote access to the store network", "needed_from": "dm", "due_on": "2026-12-15",
    }))["id"]  # fmt: skip
    await services.caught_up()
    return {"contract": contract, "expectation": expectation, "obligation": obligation}


def query_paths(ids: dict[str, str]) -> dict[str, str]:
    """One query endpoint of each service, on the contract."""
    return {
        "elicitation": f"/elicitation/contracts/{ids['contract']}",
        "ranking": f"/ranking/contracts/{ids['contract']}/ballot",
        "notifications": f"/notifications/contracts/{ids['contract']}/policies",
    }


def command_paths(ids: dict[str, str]) -> dict[str, str]:
    """One command endpoint of each service, on the contract."""
    return {
        "elicitation": f"/elicitation/contracts/{ids['contract']}/expectations",
        "ranking": f"/ranking/contracts/{ids['contract']}/prioritizations",
        "notifications": f"/notifications/contracts/{ids['contract']}/preferences",
    }


def refusal(response: Any, status: int, code: str) -> dict[str, Any]:
    """The typed refusal, checked; its body for further checks."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["message"] and isinstance(body["details"], dict), body
    return body


# What a person's command to notifications stores; its workers store deliveries and reminders
# on their own time, for events that came before, so those are not counted.
NOTIFICATION_COMMAND_EVENTS = ("PolicyChanged", "PreferencesChanged")


async def stored_events(services: Services) -> dict[str, int]:
    """How many events each service has stored for people's commands."""
    counts = {}
    for process in SERVICES:
        recorder = services.apps[process].state.runtime.app.recorder
        stored = await services.apps[process].state.runtime.executor.run(
            recorder.select_notifications, 1, 1_000_000
        )
        if process.value == "notifications":
            stored = [e for e in stored if e.topic.endswith(NOTIFICATION_COMMAND_EVENTS)]
        counts[process.value] = len(stored)
    return counts


# ---- item 3: inputs that used to be internal errors ------------------------------------------


@pytest.mark.parametrize("depth", [1_000, 60_000])
async def test_a_deeply_nested_body_is_bad_json_at_every_service(
    services: Services, contract: dict[str, str], depth: int
) -> None:
    """(A hundred thousand levels is over the body limit: refused as BODY_TOO_LARGE, below.)"""
    deep = b"[" * depth + b"]" * depth
    for service, path in command_paths(contract).items():
        response = await services.http.post(
            path, content=deep, headers={**services.auth("am"), "content-type": "application/json"}
        )
        assert refusal(response, 400, "BAD_JSON")["message"].startswith("the body is not JSON"), (
            service
        )


async def test_an_expectation_is_shown_with_its_decimal_terms(
    services: Services, contract: dict[str, str]
) -> None:
    response = await services.http.get(
        f"/elicitation/expectations/{contract['expectation']}", headers=services.auth("dm")
    )
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["terms"]["target"] == "99.5" and shown["measurable"] is True


@pytest.mark.parametrize(
    "roles", [["c1"], "admin", {"c1": "client_decision_maker"}, {"c1": [1, 2]}]
)
async def test_a_signed_token_whose_roles_have_the_wrong_shape_is_unauthenticated(
    services: Services, contract: dict[str, str], roles: object
) -> None:
    claims = {"sub": "dm", "iss": "accord", "aud": "accord", "iat": 0, "exp": 2**31}
    token = jwt.encode({**claims, "roles": roles}, services.settings.jwt_secret)
    headers = {"authorization": f"Bearer {token}"}
    for service, path in command_paths(contract).items():
        for response in (
            await services.http.post(path, json={}, headers=headers),
            await services.http.get(query_paths(contract)[service], headers=headers),
        ):
            body = refusal(response, 401, "UNAUTHENTICATED")
            assert body["details"] == {"reason": "malformed_roles"}, service
            assert "lists of role names" in body["message"]


@pytest.mark.parametrize("status", ["%00", "nonsense", "delivered%00"])
async def test_deliveries_asked_for_a_status_no_notice_has_is_invalid_input(
    services: Services, contract: dict[str, str], status: str
) -> None:
    path = f"/notifications/contracts/{contract['contract']}/deliveries"
    response = await services.http.get(f"{path}?status={status}", headers=services.auth("am"))
    assert "dead_lettered" in refusal(response, 422, "INVALID_INPUT")["message"]
    listed = await services.http.get(f"{path}?status=dead_lettered", headers=services.auth("am"))
    assert listed.status_code == 200 and listed.json()["notices"] == []


# ---- item 4: nothing stored that a read model cannot hold -------------------------------------


def unstorable(ids: dict[str, str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(person, path, body) of commands whose values no read model could hold."""
    contract, expectation = ids["contract"], ids["expectation"]
    propose = f"/elicitation/contracts/{contract}/expectations"
    yield "dm", propose, {"text": "Tills\x00work", "business_area": "stores"}
    yield "dm", propose, {"text": "Tills work", "business_area": "sto\x00res"}
    yield "dm", propose, {"text": "Tills work", "business_area": "stores\x1b[31m"}
    yield "am", f"/elicitation/expectations/{expectation}/advice", {"advice": "top\x00"}
    measure = f"/elicitation/expectations/{expectation}/measurements"
    period = {"period_start": "2026-12-01", "period_end": "2026-12-31", "source": "monitoring"}
    for value in ("1e-20000", "1e400", "NaN", 1e300):
        yield "am", measure, {**period, "value": value}
    yield "am", measure, {**period, "value": "99", "period_start": "0001-01-01"}
    refine = f"/elicitation/expectations/{expectation}/refine"
    for term in ({"target": "1e-20000"}, {"deadline": "0001-01-01"}, {"unit": "per\x00cent"}):
        yield "am", refine, {"text": "Tills work", "terms": {**TERMS, **term}, "reason": "x"}
    prioritize = f"/ranking/contracts/{contract}/prioritizations"
    for closes_at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2027-01-01T10:00"):
        yield "am", prioritize, {"method": "borda", "closes_at": closes_at}
    policy = f"/notifications/contracts/{contract}/policies"
    obligations = {"recipients": ["needed_from"], "remind_every": "P999999999D"}
    yield "am", policy, {"trigger": "obligation_proposed", "policy": obligations}
    yield "am", f"/notifications/contracts/{contract}/preferences", {
        "channel": "email", "email": "dee\x00@northwind.example",
    }  # fmt: skip


async def test_values_no_read_model_can_hold_are_refused_before_anything_is_stored(
    services: Services, contract: dict[str, str]
) -> None:
    before = await stored_events(services)
    for person, path, body in unstorable(contract):
        response = await services.post(person, path, body)
        assert response.status_code == 422, (path, body, response.text)
        assert response.json()["code"] in {"INVALID_INPUT", "VALUE_OUT_OF_RANGE"}, response.text
    assert await stored_events(services) == before
    await services.caught_up()
    assert await services.dead_letters() == [] and services.failing() == []


# ---- item 5: ids are ids before they go anywhere ----------------------------------------------


async def test_an_id_that_is_not_a_uuid_is_invalid_input_and_reaches_no_other_endpoint(
    services: Services, contract: dict[str, str]
) -> None:
    obligation = contract["obligation"]
    for bad in (
        "x",
        "x%00",
        "%2E%2E",
        f"{obligation}%3Fx=",
        "12345678-1234-1234-1234-12345678901g",
    ):
        for person, path in (
            ("am", f"/elicitation/expectations/{bad}/commit"),
            ("am", f"/elicitation/obligations/{bad}/fulfil"),
            ("dm", f"/ranking/prioritizations/{bad}/close"),
            ("am", f"/notifications/notifications/{bad}/acknowledge"),
            ("am", f"/notifications/contracts/{contract['contract']}/deliveries/{bad}/requeue"),
        ):
            body = refusal(await services.post(person, path, {}), 422, "INVALID_INPUT")
            assert "must be a UUID" in body["message"], path
    for bad in ("x", "%00"):
        response = await services.http.get(
            f"/elicitation/contracts/{bad}", headers=services.auth("am")
        )
        refusal(response, 422, "INVALID_INPUT")


async def test_a_path_smuggled_into_an_id_is_a_typed_not_found_and_changes_nothing(
    services: Services, contract: dict[str, str]
) -> None:
    before = await stored_events(services)
    smuggled = f"..%2Fobligations%2F{contract['obligation']}%2Ffulfil%3Fx="
    response = await services.post("am", f"/elicitation/expectations/{smuggled}/commit", {})
    assert response.status_code in (404, 422), response.text
    assert response.json()["code"] in {"NOT_FOUND", "INVALID_INPUT"}
    assert await stored_events(services) == before


async def test_a_path_or_method_no_service_serves_is_answered_in_json(
    services: Services, contract: dict[str, str]
) -> None:
    missing = await services.http.get("/elicitation/nothing/here", headers=services.auth("am"))
    refusal(missing, 404, "NOT_FOUND")
    wrong = await services.http.delete(
        f"/ranking/contracts/{contract['contract']}/prioritizations", headers=services.auth("am")
    )
    refusal(wrong, 405, "METHOD_NOT_ALLOWED")


# ---- item 8: bodies are bounded, refusals are one line ----------------------------------------


async def test_a_twenty_megabyte_body_is_refused_by_every_service_without_being_parsed(
    services: Services, contract: dict[str, str]
) -> None:
    limit = services.settings.service_max_body_bytes
    big = b'{"text": "' + b"x" * 20_000_000 + b'", "business_area": "stores"}'
    for path in command_paths(contract).values():
        response = await services.http.post(
            path, content=big, headers={**services.auth("dm"), "content-type": "application/json"}
        )
        assert refusal(response, 413, "BODY_TOO_LARGE")["details"] == {"limit": limit}

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: refused as it streams
        for _ in range(200):
            yield b"x" * 100_000

    path = command_paths(contract)["elicitation"]
    response = await services.http.post(path, content=streamed(), headers=services.auth("dm"))
    refusal(response, 413, "BODY_TOO_LARGE")


async def test_a_body_within_the_limit_is_read_whole(
    services: Services, contract: dict[str, str]
) -> None:
    text = "Tills work all day. " * 400  # 8,000 characters: over any chunk, under the limit
    response = await services.post("dm", command_paths(contract)["elicitation"], {
        "text": text, "business_area": "stores",
    })  # fmt: skip
    assert response.json()["code"] == "TEXT_TOO_LONG"  # the domain's own limit, read and judged


async def test_a_refusal_is_logged_as_one_line_at_info_with_no_traceback(
    services: Services, contract: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    path = f"/elicitation/expectations/{contract['expectation']}/advice"
    response = await services.post("am", path, {"advice": "top\x00"})
    assert response.status_code == 422
    served = [r for r in caplog.records if r.name != "httpx"]  # the client's own log aside
    logged = [r for r in served if path in r.getMessage()]
    assert [(r.name, r.levelno) for r in logged] == [("shared.http", logging.INFO)]
    assert logged[0].exc_info is None and "\n" not in logged[0].getMessage()
    assert "refused, request -: INVALID_INPUT" in logged[0].getMessage()
    assert not [r for r in served if r.exc_info or r.levelno >= logging.ERROR]
