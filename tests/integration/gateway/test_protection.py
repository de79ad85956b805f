"""The gateway's limits and error policy over real HTTP, on PostgreSQL: every refusal clear and
typed, internal errors masked with a request id that the logs carry, and the gateway keeps
serving after each of them."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.protection import MAX_DEPTH, MAX_TOKENS
from services.gateway.schema import Engine
from shared.auth import mint_token
from shared.bus_memory import InProcessBus
from shared.settings import Settings
from tests.integration.http_server import serving


@pytest.fixture(params=[True, False], ids=["development", "production"])
async def gateway(
    request: pytest.FixtureRequest, database_url: str, schema: str, graphql_engine: Engine
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    """The gateway on a read-model schema of its own: with introspection (development) or
    without (production), run by its own pipeline or by stock strawberry."""
    introspection = request.param
    settings = Settings(
        database_url=database_url,
        graphql_introspection=introspection,
        graphql_ide=introspection,
        graphql_engine=graphql_engine,
    )
    async with (
        serving(create_app(settings, InProcessBus(), schema=schema)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        yield http, settings


async def ask(
    gateway: tuple[httpx.AsyncClient, Settings], query: str, **variables: Any
) -> dict[str, Any]:
    http, settings = gateway
    token = mint_token(settings, "am")
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}", "x-request-id": "req-42"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def still_serving(gateway: tuple[httpx.AsyncClient, Settings]) -> None:
    assert (await ask(gateway, "{ health }")) == {"data": {"health": "ok"}}


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert len(body["errors"]) == 1, body["errors"]
    [error] = body["errors"]
    error_: dict[str, Any] = error
    return error_


async def test_a_query_deeper_than_the_limit_is_refused_before_it_runs(gateway: Any) -> None:
    # The schema has no cycles today (its deepest path is 7 fields), so a document nested
    # past the limit is refused for its depth, whatever else is wrong with it.
    fields = ["contracts", "edges", "node", "expectations", *(f"f{n}" for n in range(MAX_DEPTH))]
    too_deep = "{ " + " { ".join(fields) + " }" * len(fields)
    body = await ask(gateway, too_deep)
    assert body.get("data") is None
    depth = [e for e in body["errors"] if "exceeds maximum operation depth" in e["message"]]
    assert depth and depth[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body
    await still_serving(gateway)


async def test_a_document_of_too_many_tokens_is_refused_while_parsing(gateway: Any) -> None:
    long = "{ " + "health " * MAX_TOKENS + "}"
    error = only_error(await ask(gateway, long))
    assert "data" not in error
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert f"more than {MAX_TOKENS} tokens" in error["message"]
    broken = only_error(await ask(gateway, "{ health"))
    assert broken["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert broken["locations"] == [{"line": 1, "column": 9}]
    await still_serving(gateway)


async def test_introspection_and_field_suggestions_are_off_in_production(gateway: Any) -> None:
    _, settings = gateway
    introspected = await ask(gateway, "{ __schema { queryType { name } } }")
    typo = only_error(await ask(gateway, "{ healht }"))
    assert typo["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    if settings.graphql_introspection:
        assert introspected == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
        assert "Did you mean 'health'?" in typo["message"]
    else:
        assert introspected.get("data") is None
        for error in introspected["errors"]:  # __schema, and queryType (an introspection type)
            assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            assert "introspection has been disabled" in error["message"]
        assert typo["message"] == "Cannot query field 'healht' on type 'Query'."
    await still_serving(gateway)


async def test_an_internal_error_is_masked_and_its_request_id_is_in_the_logs(
    gateway: Any, database_url: str, schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    conn = await asyncpg.connect(database_url)
    try:  # the read models lose a table under the gateway's feet
        await conn.execute(f'DROP TABLE "{schema}".participants CASCADE')
    finally:
        await conn.close()
    with caplog.at_level(logging.INFO):
        body = await ask(
            gateway, 'query { contract(id: "00000000-0000-4000-8000-0000000000c1") { title } }'
        )
    error = only_error(body)
    assert error["message"] == "Internal error; quote the request id to support."
    assert error["extensions"] == {"requestId": "req-42"}
    assert "participants" not in str(body)  # nothing of the cause reaches the client
    assert "UndefinedTableError" in caplog.text
    assert "req-42" in caplog.text
    await still_serving(gateway)


async def test_a_relation_that_fails_is_reported_at_its_own_path(
    gateway: Any, database_url: str, schema: str
) -> None:
    conn = await asyncpg.connect(database_url)
    try:  # a contract the caller is on, whose expectations can no longer be read
        await conn.execute(
            f'INSERT INTO "{schema}".contracts (contract_id, title, client_organisation,'
            " provider_organisation, starts_on, opened_by, version, created_at, updated_at)"
            " VALUES ('00000000-0000-4000-8000-0000000000c9', 'Kept', 'Northwind', 'Contoso', '2027-01-01', 'am', 1, now(), now())"
        )
        await conn.execute(
            f'INSERT INTO "{schema}".participants (contract_id, person_id, name, side, role,'
            " email, phone, added_by, active, created_at) VALUES ('00000000-0000-4000-8000-0000000000c9', 'am', 'Am',"
            " 'provider', 'provider_account_manager', '', '', 'am', true, now())"
        )
        await conn.execute(f'DROP TABLE "{schema}".expectation_versions CASCADE')
    finally:
        await conn.close()
    body = await ask(
        gateway,
        'query { contract(id: "00000000-0000-4000-8000-0000000000c9") { title participants { personId } expectations { id } } }',
    )
    error = only_error(body)
    assert error["path"] == ["contract", "expectations"]
    assert error["message"] == "Internal error; quote the request id to support."
    # The list may not be null, so the contract is; the read of the other relation is unharmed.
    assert body["data"] == {"contract": None}
    fine = await ask(
        gateway,
        'query { contract(id: "00000000-0000-4000-8000-0000000000c9") { title participants { personId } } }',
    )
    assert fine == {"data": {"contract": {"title": "Kept", "participants": [{"personId": "am"}]}}}


async def test_expected_refusals_keep_their_code_and_carry_the_request_id(gateway: Any) -> None:
    error = only_error(
        await ask(
            gateway, 'query { contract(id: "00000000-0000-4000-8000-0000000000c1") { title } }'
        )
    )
    assert error["extensions"] == {"code": "FORBIDDEN", "requestId": "req-42"}
    assert error["path"] == ["contract"]


async def test_requests_that_are_not_one_graphql_operation_get_a_clear_400(gateway: Any) -> None:
    http, settings = gateway
    headers = {
        "authorization": f"Bearer {mint_token(settings, 'am')}",
        "content-type": "application/json",
    }
    refusals = {
        b"{not json": "Unable to parse request body as JSON",
        b'{"variables": {}}': "No GraphQL query found in the request",
        b'[{"query": "{ health }"}]': "Batching is not enabled",
        b'{"query": "subscription { contractEvents(contractId: \\"c\\") { eventType } }"}': (
            "subscriptions"
        ),
    }
    for body, reason in refusals.items():
        response = await http.post("/graphql", content=body, headers=headers)
        assert response.status_code == 400, (body, response.text)
        assert reason in response.text, (body, response.text)
    await still_serving(gateway)


async def test_operations_over_graphql_transport_ws_follow_the_same_policy(gateway: Any) -> None:
    import websockets

    http, settings = gateway
    url = str(http.base_url).replace("http://", "ws://") + "/graphql"
    token = mint_token(settings, "am")
    documents = {
        'subscription { contractEvents(contractId: "00000000-0000-4000-8000-00000000000c") { nonsense } }': (
            "GRAPHQL_VALIDATION_FAILED"
        ),
        "subscription { a: health }": "GRAPHQL_VALIDATION_FAILED",
        'subscription { contractEvents(contractId: "00000000-0000-4000-8000-00000000000c") { eventType } }': "FORBIDDEN",
    }
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        for n, (document, code) in enumerate(documents.items()):
            subscribe = {"id": str(n), "type": "subscribe", "payload": {"query": document}}
            await ws.send(json.dumps(subscribe))
            async with asyncio.timeout(10):
                message = json.loads(await ws.recv())
            assert message["id"] == str(n)
            payload = message["payload"]
            errors = payload if message["type"] == "error" else payload["errors"]
            assert errors[0]["extensions"]["code"] == code, message
        # The protocol answers a document that does not parse by closing with 4400.
        too_long = "subscription { " + "health " * MAX_TOKENS + "}"
        await ws.send(json.dumps({"id": "x", "type": "subscribe", "payload": {"query": too_long}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                while True:  # the last subscription's "complete" may come first
                    assert json.loads(await ws.recv())["type"] == "complete"
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
        assert f"more than {MAX_TOKENS} tokens" in closed.value.rcvd.reason
    await still_serving(gateway)


async def test_a_query_sent_with_get_is_refused(gateway: Any) -> None:
    """Queries change nothing, but GET requests are simple cross-site requests: POST only."""
    http, settings = gateway
    response = await http.get(
        "/graphql",
        params={"query": "{ health }"},
        headers={"authorization": f"Bearer {mint_token(settings, 'am')}"},
    )
    assert response.status_code in {400, 405}, response.text
    assert "health" not in response.text
    await still_serving(gateway)


# Requests of every kind the policy answers: data, refusals, document and variable mistakes,
# limits, introspection, operations that cannot be chosen. Body sent, whether as JSON.
SAME_REQUESTS: list[dict[str, Any]] = [
    {"query": "{ health version __typename }"},
    {"query": 'query { contract(id: "00000000-0000-4000-8000-0000000000c1") { title } }'},
    {"query": 'query { contract(id: "not/a-uuid") { title } }'},
    {
        "query": "query($id: ID!) { contract(id: $id) { title participants { personId role }"
        " expectations { id } } }",
        "variables": {"id": "00000000-0000-4000-8000-0000000000c9"},
    },
    {"query": "query($id: ID!) { contract(id: $id) { title } }", "variables": {"id": None}},
    {
        "query": "query($n: Int!) { contracts(first: $n) { pageInfo { hasNextPage } } }",
        "variables": {"n": 2**31},
    },
    {"query": "{ contracts(first: 2) { pageInfo { hasNext } } }"},
    {"query": "{ contracts(first: 2) { edges { node { title } } } }"},
    {"query": "{ healht }"},
    {"query": "{ health"},
    {"query": "{ " + "health " * MAX_TOKENS + "}"},
    {"query": "{ contracts { edges { node { " + "f { " * MAX_DEPTH + "}" * (MAX_DEPTH + 4)},
    {"query": "{ __schema { queryType { name } } }"},
    {"query": "query A { health } query B { version }"},
    {"query": "query A { health } query B { version }", "operationName": "B"},
    {"query": "query A { health }", "operationName": "C"},
]


async def test_both_engines_give_the_same_answers_to_the_same_requests(
    database_url: str, schema: str
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        for introspection in (True, False):
            answers = {}
            for engine in ("accord", "stock"):
                settings = Settings(
                    database_url=database_url,
                    graphql_introspection=introspection,
                    graphql_engine=engine,
                )
                app = create_app(settings, InProcessBus(), schema=schema)
                async with (
                    serving(app) as url,
                    httpx.AsyncClient(base_url=url, timeout=30) as http,
                ):
                    if engine == "accord" and introspection:  # the read models, once served
                        await _a_contract_the_caller_is_on(conn, schema)
                    headers = {
                        "authorization": f"Bearer {mint_token(settings, 'am')}",
                        "x-request-id": "req-same",
                    }
                    answers[engine] = [
                        (response.status_code, response.json())
                        for body in SAME_REQUESTS
                        for response in [await http.post("/graphql", json=body, headers=headers)]
                    ]
            assert answers["accord"] == answers["stock"]
            assert [status for status, _ in answers["accord"]].count(400) == 2
            data = [body.get("data") for _, body in answers["accord"]]
            assert {"contract": {"title": "Kept", "participants": [
                {"personId": "am", "role": "PROVIDER_ACCOUNT_MANAGER"}
            ], "expectations": []}} in data  # fmt: skip
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


async def _a_contract_the_caller_is_on(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(
        f'INSERT INTO "{schema}".contracts (contract_id, title, client_organisation,'
        " provider_organisation, starts_on, opened_by, version, created_at, updated_at)"
        " VALUES ('00000000-0000-4000-8000-0000000000c9', 'Kept', 'Northwind', 'Contoso',"
        " '2027-01-01', 'am', 1, now(), now())"
    )
    await conn.execute(
        f'INSERT INTO "{schema}".participants (contract_id, person_id, name, side, role,'
        " email, phone, added_by, active, created_at) VALUES"
        " ('00000000-0000-4000-8000-0000000000c9', 'am', 'Am', 'provider',"
        " 'provider_account_manager', '', '', 'am', true, now())"
    )


async def test_a_get_is_the_ide_page_in_development_and_else_a_json_refusal(gateway: Any) -> None:
    """Production serves no IDE: its GET was strawberry's plain-text 404, as a query in the
    URL was its plain-text 400."""
    http, settings = gateway
    page = await http.get("/graphql", headers={"accept": "text/html"})
    if settings.graphql_ide:
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        return
    for got in (page, await http.get("/graphql", params={"query": "{ health }"})):
        assert (got.status_code, got.headers["allow"]) == (405, "POST"), got.text
        assert only_error(got.json())["extensions"]["code"] == "BAD_REQUEST"
