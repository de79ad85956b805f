"""In the embedded default the gateway reaches the services mounted beside it in process: the
same URLs, headers and answers as over the network, and no socket in between. Each test runs
both ways (ACCORD_IN_PROCESS_CALLS): the app handed the request directly, and httpx's client
through its ASGI transport."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from accord.embedded import embedded_app
from services.gateway.service_calls import InProcessWay, Unreachable, in_process
from shared.auth import mint_token
from shared.settings import Settings
from tests.integration.services_in_one import own_database

REFUSAL = "... on Refusal { code message }"
WAYS = ["direct", "httpx"]


def a_port_nobody_listens_on() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Gateway:
    """The embedded app driven without any server: whatever the gateway forwards cannot go
    over the network, since nothing listens where its settings point."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    async def ask(self, person: str, query: str) -> dict[str, Any]:
        token = mint_token(self.settings, person)
        response = await self.http.post(
            "/graphql", json={"query": query}, headers={"authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        assert "errors" not in answer, answer
        return answer["data"]


@pytest.fixture(params=WAYS)
async def gateway(database_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Gateway]:
    settings = Settings(
        in_process_calls=request.param,
        database_url=await own_database(database_url),
        jwt_secret="gateway-in-process-secret-of-32-by",
        host="127.0.0.1",
        port=a_port_nobody_listens_on(),
        graphql_ide=False,
    )
    app = embedded_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://accord") as http,
    ):
        yield Gateway(http, settings)


async def test_a_mutation_reaches_its_service_with_no_server_listening(gateway: Gateway) -> None:
    opened = await gateway.ask("am", f"""mutation {{ openContract(input: {{
        clientOrganisation: "Northwind", providerOrganisation: "Contoso", title: "Operations",
        startsOn: "2027-01-01", name: "Ann", role: PROVIDER_ACCOUNT_MANAGER}}) {{
        ... on ContractChanged {{ created consistent }} {REFUSAL} }} }}""")  # fmt: skip
    contract = opened["openContract"]["created"]
    assert opened["openContract"]["consistent"] is True
    await gateway.ask("am", f"""mutation {{ joinContract(input: {{contractId: "{contract}",
        personId: "cfo", name: "Chris", role: CLIENT_DECISION_MAKER}}) {{
        ... on ContractChanged {{ version }} {REFUSAL} }} }}""")  # fmt: skip

    proposed = await gateway.ask("cfo", f"""mutation {{ proposeExpectation(input: {{
        contractId: "{contract}", text: "Reports arrive on time", businessArea: "finance"}}) {{
        ... on ExpectationChanged {{ consistent expectation {{ text }} }} {REFUSAL} }} }}""")  # fmt: skip

    assert proposed["proposeExpectation"] == {
        "consistent": True,
        "expectation": {"text": "Reports arrive on time"},
    }


async def test_a_service_refusal_comes_back_typed_as_over_the_network(gateway: Gateway) -> None:
    opened = await gateway.ask("am", f"""mutation {{ openContract(input: {{
        clientOrganisation: "Northwind", providerOrganisation: "Contoso", title: "Operations",
        startsOn: "2027-01-01", name: "Ann", role: PROVIDER_ACCOUNT_MANAGER}}) {{
        ... on ContractChanged {{ created }} {REFUSAL} }} }}""")  # fmt: skip
    contract = opened["openContract"]["created"]

    refused = await gateway.ask("stranger", f"""mutation {{ proposeExpectation(input: {{
        contractId: "{contract}", text: "Mine", businessArea: "it"}}) {{
        __typename {REFUSAL} }} }}""")  # fmt: skip

    assert refused["proposeExpectation"]["code"] == "NOT_A_PARTICIPANT"


@pytest.mark.parametrize("way", WAYS)
async def test_an_app_that_fails_answers_500_and_its_traceback_is_logged(
    way: InProcessWay, caplog: pytest.LogCaptureFixture
) -> None:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("the service broke")

    calls = in_process(failing, way)
    try:
        answer = await calls.request("POST", "http://accord/elicitation/contracts", headers={})
    finally:
        await calls.aclose()

    assert answer.status_code == 500
    [logged] = [r for r in caplog.records if r.name == "uvicorn.error"]
    assert logged.levelno == logging.ERROR and logged.exc_info is not None


@pytest.mark.parametrize("way", WAYS)
async def test_an_app_slower_than_the_read_timeout_is_a_timeout(way: InProcessWay) -> None:
    never = asyncio.Event()

    async def stuck(scope: Scope, receive: Receive, send: Send) -> None:
        await never.wait()

    calls = in_process(stuck, way, seconds=0.05)
    try:
        with pytest.raises(Unreachable) as unreachable:
            await calls.request("POST", "http://accord/elicitation/contracts", headers={}, json={})
    finally:
        await calls.aclose()
    assert unreachable.value.reason == "ReadTimeout"


@pytest.mark.parametrize("way", WAYS)
async def test_the_service_is_handed_the_request_a_server_would_hand_it(way: InProcessWay) -> None:
    seen: list[dict[str, Any]] = []

    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        headers = dict(scope["headers"])
        seen.append({
            "method": scope["method"], "path": scope["path"], "query": scope["query_string"],
            "authorization": headers[b"authorization"], "type": headers.get(b"content-type"),
            "length": headers.get(b"content-length"), "body": message["body"],
        })  # fmt: skip
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"part, ", "more_body": True})
        await send({"type": "http.response.body", "body": b"rest"})

    calls = in_process(echo, way)
    try:
        posted = await calls.request(
            "POST", "http://accord/elicitation/contracts/c%201/expectations",
            headers={"authorization": "Bearer t"}, json={"text": "Élan", "n": 1},
        )  # fmt: skip
        got = await calls.request(
            "GET", "http://accord/notifications/notifications",
            headers={"authorization": "Bearer t"}, params={"unread_only": "true"},
        )  # fmt: skip
    finally:
        await calls.aclose()

    assert (posted.status_code, posted.content) == (202, b"part, rest")
    assert got.status_code == 202
    sent, asked = seen
    assert sent["method"] == "POST" and sent["path"] == "/elicitation/contracts/c 1/expectations"
    assert sent["authorization"] == b"Bearer t" and sent["type"] == b"application/json"
    assert json.loads(sent["body"]) == {"text": "Élan", "n": 1}
    assert int(sent["length"]) == len(sent["body"])
    assert asked["method"] == "GET" and asked["query"] == b"unread_only=true"
    assert asked["body"] == b""
