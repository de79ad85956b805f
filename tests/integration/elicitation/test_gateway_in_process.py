"""In the embedded default the gateway reaches the services mounted beside it in process: the
same URLs, headers and answers as over the network, and no socket in between."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from accord.embedded import InProcess, embedded_app
from shared.auth import mint_token
from shared.settings import Settings
from tests.integration.services_in_one import own_database

REFUSAL = "... on Refusal { code message }"


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


@pytest.fixture
async def gateway(database_url: str) -> AsyncIterator[Gateway]:
    settings = Settings(
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


async def test_an_app_that_fails_answers_500_and_its_traceback_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("the service broke")

    async with httpx.AsyncClient(transport=InProcess(failing), base_url="http://accord") as http:
        response = await http.post("/elicitation/contracts", json={})

    assert response.status_code == 500
    [logged] = [r for r in caplog.records if r.name == "uvicorn.error"]
    assert logged.levelno == logging.ERROR and logged.exc_info is not None


async def test_an_app_slower_than_the_read_timeout_is_a_timeout() -> None:
    never = asyncio.Event()

    async def stuck(scope: Scope, receive: Receive, send: Send) -> None:
        await never.wait()

    async with httpx.AsyncClient(
        transport=InProcess(stuck), base_url="http://accord", timeout=0.05
    ) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post("/elicitation/contracts", json={})
