"""The GraphQL API of `accord dev`, as a front-end team and an auditor use it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.accord_process import accord_env, accord_running, ask


@pytest.fixture(scope="module")
def accord(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`accord dev` started from a directory of the user's, not the checkout, with the demo."""
    folder = tmp_path_factory.mktemp("gql")
    with accord_running(folder, accord_env(folder / ".accord")) as running:
        url = running.url
        loaded = subprocess.run(
            [sys.executable, "-m", "accord", "demo", "--url", url.removesuffix("/graphql")],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        yield url, json.loads(loaded.stdout), running.database


def test_a_participant_reads_the_contract_with_its_corporate_priorities(accord: Any) -> None:
    url, demo, _ = accord
    body = ask(
        url,
        "cfo",
        """query($id: ID!) { contract(id: $id) {
        title participants { personId role } expectations { id text corporatePriority status }
        gapAnalysis { expectationId priority met flagged } } }""",
        id=demo["contract_id"],
    )
    assert "errors" not in body, body
    contract = body["data"]["contract"]
    assert contract["title"] == "Managed IT operations 2027-2029"
    assert len(contract["participants"]) == 8
    ranked = [e for e in contract["expectations"] if e["corporatePriority"] is not None]
    assert [e["id"] for e in sorted(ranked, key=lambda e: e["corporatePriority"])] == demo[
        "ranking"
    ]
    missed = [g for g in contract["gapAnalysis"] if g["met"] is False]
    assert missed, "the demo records a missed target"
    # The decision makers ranked before delivery was measured: the missed till target is the
    # corporate first priority, flagged, and its sponsor was told at once.
    assert [(g["expectationId"], g["priority"], g["flagged"]) for g in missed] == [
        (demo["ranking"][0], 1, True)
    ]
    # Notices are planned and sent after the command's answer: the sponsor's may be a moment on
    # its way when the demo ends.
    deadline = time.monotonic() + 15
    while True:
        told = ask(
            url,
            "ceo",
            "{ notifications(first: 100) { edges { node { trigger subject urgent data } } } }",
        )["data"]
        missed_notices = [
            n["node"]
            for n in told["notifications"]["edges"]
            if n["node"]["trigger"] == "MEASUREMENT_MISSED"
        ]
        if missed_notices or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [
        (n["urgent"], n["data"]["expectation_id"], n["data"]["rank"]) for n in missed_notices
    ] == [(True, demo["ranking"][0], 1)], told
    assert missed_notices[0]["subject"] == (
        "Target missed on corporate priority #1: Tills work all trading hours"
    )


def test_a_mutation_answers_with_its_own_change_and_time_travel_shows_the_past(accord: Any) -> None:
    url, demo, _ = accord
    proposed = ask(
        url,
        "cso",
        """mutation($c: ID!) { proposeExpectation(input: {contractId: $c,
        text: "Price labels are right", businessArea: "stores"}) {
        __typename ... on ExpectationChanged { consistent expectation { id text version } } } }""",
        c=demo["contract_id"],
    )
    changed = proposed["data"]["proposeExpectation"]
    assert changed["__typename"] == "ExpectationChanged" and changed["consistent"] is True
    expectation = changed["expectation"]["id"]
    refined = ask(
        url,
        "am",
        """mutation($e: ID!) { refineExpectation(input: {expectationId: $e,
        text: "Shelf price labels match the till price", reason: "made measurable",
        terms: {metric: "label accuracy", comparison: AT_LEAST, target: "99", unit: "percent",
                recurrence: MONTHLY, measurementMethod: "store audit", measuredBy: "provider"}}) {
        __typename ... on ExpectationChanged { expectation { text version measurable } } } }""",
        e=expectation,
    )
    assert refined["data"]["refineExpectation"]["expectation"] == {
        "text": "Shelf price labels match the till price",
        "version": 2,
        "measurable": True,
    }
    then = ask(
        url,
        "cso",
        "query($e: ID!) { expectation(id: $e, version: 1) { text measurable } }",
        e=expectation,
    )
    assert then["data"]["expectation"] == {"text": "Price labels are right", "measurable": False}
    history = ask(
        url,
        "cso",
        "query($e: ID!) { expectationHistory(id: $e) { version changedBy reason changes { field old new } } }",
        e=expectation,
    )
    second = history["data"]["expectationHistory"][1]
    assert second["changedBy"] == "am" and second["reason"] == "made measurable"
    assert {
        "field": "text",
        "old": "Price labels are right",
        "new": "Shelf price labels match the till price",
    } in second["changes"]
    assert {"field": "terms.target", "old": None, "new": "99"} in second["changes"]


def test_an_expectation_says_what_its_terms_lack_in_the_schemas_own_names(accord: Any) -> None:
    url, demo, _ = accord
    read = "query($e: ID!) { expectation(id: $e) { measurable missingForMeasurable } }"
    proposed = ask(
        url, "cso", """mutation($c: ID!) { proposeExpectation(input: {contractId: $c,
        text: "Deliveries arrive before opening", businessArea: "stores"}) {
        ... on ExpectationChanged { created } } }""", c=demo["contract_id"],
    )["data"]["proposeExpectation"]["created"]  # fmt: skip
    fresh = ask(url, "cso", read, e=proposed)["data"]["expectation"]
    assert fresh == {"measurable": False, "missingForMeasurable": None}  # no terms given yet
    ask(url, "am", """mutation($e: ID!) { refineExpectation(input: {expectationId: $e,
        text: "Deliveries arrive before opening", reason: "a first measure",
        terms: {metric: "on-time deliveries", comparison: AT_LEAST, target: "95"}}) {
        __typename } }""", e=proposed)  # fmt: skip
    partial = ask(url, "cso", read, e=proposed)["data"]["expectation"]
    # The names a client sends back in TermsInput, not the service's snake_case.
    assert partial == {"measurable": False, "missingForMeasurable": ["unit", "measurementMethod"]}
    history = ask(url, "cso", """query($e: ID!) { expectationHistory(id: $e) {
        changes { field newItems } } }""", e=proposed)["data"]["expectationHistory"]  # fmt: skip
    missing = [c for c in history[-1]["changes"] if c["field"] == "missingForMeasurable"]
    assert missing == [{"field": "missingForMeasurable", "newItems": ["unit", "measurementMethod"]}]


def test_refusals_are_typed_and_outsiders_see_nothing(accord: Any) -> None:
    url, demo, _ = accord
    empty = ask(
        url,
        "cfo",
        """mutation($c: ID!) { proposeExpectation(input: {contractId: $c, text: " ", businessArea: "x"}) {
        __typename ... on BadInput { code message } } }""",
        c=demo["contract_id"],
    )
    assert empty["data"]["proposeExpectation"] == {
        "__typename": "BadInput",
        "code": "TEXT_EMPTY",
        "message": empty["data"]["proposeExpectation"]["message"],
    }
    outsider = ask(
        url, "mallory", "query($id: ID!) { contract(id: $id) { title } }", id=demo["contract_id"]
    )
    assert outsider["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = ask(
        url, None, "query($id: ID!) { contract(id: $id) { title } }", id=demo["contract_id"]
    )
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    unknown_field = ask(url, "cfo", "{ contracts { edges { node { nonsense } } } }")
    assert unknown_field["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    aliases = ask(url, "cfo", "{ " + " ".join(f"a{n}: health" for n in range(20)) + " }")
    assert "aliases" in aliases["errors"][0]["message"]
    huge_page = ask(url, "cfo", "{ contracts(first: 1000) { edges { cursor } } }")
    assert huge_page["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    oversized = httpx.post(url, json={"query": "{ health }", "padding": "x" * 200_000}, timeout=10)
    assert oversized.status_code == 413
    chunked = httpx.post(
        url,
        content=(b" " * 10_000 for _ in range(30)),  # no length: sent in chunks
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert chunked.status_code == 413
    assert chunked.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    simple = httpx.post(
        url,
        content=b"query=%7B+health+%7D",
        headers={"content-type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert simple.status_code == 415
    assert ask(url, None, "{ health }")["data"] == {"health": "ok"}  # still serving


def test_aliases_directives_and_fragments_read_the_same_relations(accord: Any) -> None:
    url, demo, _ = accord
    plain = ask(
        url,
        "cfo",
        "query($id: ID!) { contract(id: $id) { participants { personId } expectations { id } } }",
        id=demo["contract_id"],
    )["data"]["contract"]
    shaped = ask(
        url,
        "cfo",
        """query($id: ID!, $no: Boolean!) { contract(id: $id) {
        people: participants { personId } again: participants { personId }
        skipped: expectations @include(if: $no) { id }
        ... on Contract { expectations { id } } ...Risky } }
        fragment Risky on Contract { risks { title } }""",
        id=demo["contract_id"],
        no=False,
    )
    assert "errors" not in shaped, shaped
    contract = shaped["data"]["contract"]
    assert contract["people"] == contract["again"] == plain["participants"]
    assert "skipped" not in contract
    assert contract["expectations"] == plain["expectations"]
    assert isinstance(contract["risks"], list)


def test_a_page_of_contracts_shows_each_as_the_contract_itself_does(accord: Any) -> None:
    url, _, _ = accord
    opened = ask(
        url,
        "am",
        """mutation { openContract(input: {clientOrganisation: "Fabrikam", title: "Field service",
        providerOrganisation: "Contoso", startsOn: "2027-01-01", name: "Am",
        role: PROVIDER_ACCOUNT_MANAGER}) { __typename ... on ContractChanged { consistent } } }""",
    )
    assert opened["data"]["openContract"] == {"__typename": "ContractChanged", "consistent": True}
    fields = "id title participants { personId role } expectations { id text } risks { title }"
    page = ask(url, "am", f"{{ contracts(first: 20) {{ edges {{ node {{ {fields} }} }} }} }}")
    nodes = [edge["node"] for edge in page["data"]["contracts"]["edges"]]
    assert len(nodes) >= 2 and any(node["expectations"] for node in nodes)
    for node in nodes:
        alone = ask(
            url, "am", f"query($id: ID!) {{ contract(id: $id) {{ {fields} }} }}", id=node["id"]
        )
        assert alone["data"]["contract"] == node


def test_any_object_is_found_again_by_its_global_id(accord: Any) -> None:
    url, demo, _ = accord
    contract = ask(
        url,
        "cfo",
        """query($id: ID!) { contract(id: $id) { globalId title
        expectations { id globalId text } prioritizations { id globalId method } } }""",
        id=demo["contract_id"],
    )["data"]["contract"]
    expectation, prioritization = contract["expectations"][0], contract["prioritizations"][0]
    query = """query($id: ID!) { node(id: $id) { __typename
      ... on Contract { title } ... on Expectation { id text } ... on Prioritization { id method } } }"""
    found = {
        name: ask(url, "cfo", query, id=obj["globalId"])["data"]["node"]
        for name, obj in [
            ("Contract", contract), ("Expectation", expectation), ("Prioritization", prioritization)
        ]
    }  # fmt: skip
    assert found == {
        "Contract": {"__typename": "Contract", "title": contract["title"]},
        "Expectation": {"__typename": "Expectation", "id": expectation["id"],
                        "text": expectation["text"]},
        "Prioritization": {"__typename": "Prioritization", "id": prioritization["id"],
                           "method": prioritization["method"]},
    }  # fmt: skip
    # Global ids are opaque, and still checked: another person's contract stays closed.
    assert contract["globalId"] != demo["contract_id"]
    outsider = ask(url, "mallory", query, id=contract["globalId"])
    assert outsider["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    nonsense = ask(url, "cfo", query, id="not a global id")
    assert nonsense["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_an_auditor_pages_through_the_audit_trail(accord: Any) -> None:
    url, demo, _ = accord
    first = ask(
        url,
        "cfo",
        """query($c: ID!) { auditTrail(contractId: $c, first: 5) {
        edges { cursor node { eventType actorId } } pageInfo { hasNextPage endCursor } } }""",
        c=demo["contract_id"],
    )
    page = first["data"]["auditTrail"]
    assert len(page["edges"]) == 5 and page["pageInfo"]["hasNextPage"]
    assert page["edges"][0]["node"]["eventType"] == "accord.elicitation.ContractOpened.v1"
    votes = ask(
        url,
        "cfo",
        """query($c: ID!) { auditTrail(contractId: $c, eventType: "VoteCast", first: 50) {
        edges { node { actorId } } } }""",
        c=demo["contract_id"],
    )
    assert sorted(e["node"]["actorId"] for e in votes["data"]["auditTrail"]["edges"]) == [
        "cfo",
        "chro",
        "cio",
        "coo",
        "cso",
    ]


async def test_subscribers_receive_the_contracts_events_as_they_are_applied(accord: Any) -> None:
    import asyncio
    import contextlib

    import websockets

    url, demo, _ = accord
    ws_url = url.replace("http://", "ws://")
    token = mint_token(Settings(), "cfo")
    # More subscribers than the gateway's query pool has connections: they share one LISTEN,
    # so queries and mutations still find a connection.
    async with contextlib.AsyncExitStack() as stack:
        subscribers = []
        for n in range(12):
            ws = await stack.enter_async_context(
                websockets.connect(ws_url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
            )
            await ws.send(json.dumps(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            ))  # fmt: skip
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": {
                "query": "subscription($c: ID!) { contractEvents(contractId: $c) { eventType actorId } }",
                "variables": {"c": demo["contract_id"]}}}))  # fmt: skip
            subscribers.append(ws)
        await asyncio.sleep(0.5)
        changed = await asyncio.to_thread(
            ask,
            url,
            "cso",
            """mutation($c: ID!) { proposeExpectation(input: {contractId: $c,
            text: "Receipts are emailed", businessArea: "stores"}) { __typename } }""",
            c=demo["contract_id"],
        )
        assert changed["data"]["proposeExpectation"]["__typename"] == "ExpectationChanged"
        for ws in subscribers:
            received = []
            async with asyncio.timeout(10):
                while not any(e["eventType"].endswith("ExpectationProposed.v1") for e in received):
                    message = json.loads(await ws.recv())
                    assert message["type"] == "next"
                    received.append(message["payload"]["data"]["contractEvents"])
            # Other services' events on the contract (a notice queued...) may come first.
            assert {
                "eventType": "accord.elicitation.ExpectationProposed.v1",
                "actorId": "cso",
            } in received


async def test_a_subscriber_without_a_valid_token_is_refused_at_connection_time(
    accord: Any,
) -> None:
    import websockets

    url, _, _ = accord
    async with websockets.connect(
        url.replace("http://", "ws://"), subprotocols=["graphql-transport-ws"]
    ) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer forged"}})
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


@pytest.mark.parametrize("where", ["Authorization", "AUTHORIZATION", "handshake"])
async def test_a_subscriber_gives_its_token_as_its_client_library_sends_it(
    accord: Any, where: str
) -> None:
    """Client libraries send the payload's key as the header is spelt (`Authorization`), and
    a client outside a browser may set the handshake's header instead: both are accepted.
    Before, only `authorization` was, and the rest were refused 4403 with a valid token."""
    import websockets

    url, _, _ = accord
    bearer = f"Bearer {mint_token(Settings(), 'cfo')}"
    headers = {"authorization": bearer} if where == "handshake" else {}
    payload = {} if where == "handshake" else {where: bearer}
    async with websockets.connect(
        url.replace("http://", "ws://"),
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers=headers,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"


class CountingPool:
    """The read-model pool, counting every query the resolvers send."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.queries = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.pool, name)
        if name in {"fetch", "fetchrow", "fetchval", "execute"}:
            self.queries += 1
        return method


async def counted(
    database: str, person: str, query: str, **variables: Any
) -> tuple[dict[str, Any], int]:
    """The operation's answer from the gateway's schema on the read model, and how many queries
    its resolvers sent."""
    import asyncpg

    from services.gateway.context import GatewayContext
    from services.gateway.schema import schema
    from shared.auth import Actor

    pool = await asyncpg.create_pool(database, server_settings={"search_path": "readmodel"})
    counting = CountingPool(pool)
    try:
        context = GatewayContext(
            actor=Actor(person), refused="", authorization="", request_id="count", pool=counting,  # type: ignore[arg-type]
            services=None, settings=Settings(),  # type: ignore[arg-type]
        )  # fmt: skip
        result = await schema.execute(query, variable_values=variables, context_value=context)
    finally:
        await pool.close()
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data, counting.queries


async def test_a_contract_costs_the_same_number_of_queries_however_much_it_holds(
    accord: Any,
) -> None:
    url, demo, database = accord
    small = ask(
        url,
        "am",
        """mutation { openContract(input: {clientOrganisation: "Tiny", providerOrganisation: "Contoso",
        title: "Small", startsOn: "2027-01-01", name: "Ann", role: PROVIDER_ACCOUNT_MANAGER}) {
        ... on ContractChanged { contract { id } } } }""",
    )["data"]["openContract"]["contract"]["id"]
    ask(
        url,
        "am",
        """mutation($c: ID!) { proposeExpectation(input: {contractId: $c, text: "One thing", businessArea: "x"}) { __typename } }""",
        c=small,
    )
    query = """query($id: ID!) { contract(id: $id) { title participants { personId } expectations { text advice { advice } }
        risks { title remedialActions { action } } obligations { what } gapAnalysis { priority }
        prioritizations { ballots { voter } ranking { entries { expectationId } distances { voter } } } } }"""
    _, big = await counted(database, "am", query, id=demo["contract_id"])
    _, tiny = await counted(database, "am", query, id=small)
    assert big == tiny  # 12 expectations, 5 ballots, a risk: as many queries as one expectation

    # The expectation each of the ranking's entries names: one query more, for all of them.
    named = query.replace(
        "entries { expectationId }", "entries { expectationId expectation { id text } }"
    )
    data, queries = await counted(database, "am", named, id=demo["contract_id"])
    [ranked] = [p for p in data["contract"]["prioritizations"] if p["ranking"]]
    entries = ranked["ranking"]["entries"]
    assert len(entries) > 1
    assert [e["expectation"]["id"] for e in entries] == [e["expectationId"] for e in entries]
    assert all(e["expectation"]["text"] for e in entries)
    assert queries == big + 1

    # Across a page of contracts too: the DataLoaders batch each relation into one query.
    listing = """{ contracts(first: 20) { edges { node { title participants { personId }
        expectations { text } risks { title } prioritizations { ballots { voter } } gapAnalysis { priority } } } } }"""
    per_person = {}
    for person in ("am", "cso"):  # am opened both contracts, cso is on the demo only
        data, queries = await counted(database, person, listing)
        per_person[person] = (len(data["contracts"]["edges"]), queries)
    assert per_person["am"][0] > per_person["cso"][0]
    assert per_person["am"][1] == per_person["cso"][1]


ROLES = {
    "cfo": "client_decision_maker",
    "ceo": "client_sponsor",
    "am": "provider_account_manager",
    "lead": "provider_delivery_lead",
    "auditor": "auditor",
    "mallory": None,
}
# operation -> the people allowed; everyone else is refused (Forbidden, or FORBIDDEN on reads)
MATRIX = {
    "proposeExpectation": {"cfo"},
    "refineExpectation": {"am", "lead"},
    "giveProviderAdvice": {"am", "lead"},
    "discloseRisk": {"am", "lead"},
    "readContract": {"cfo", "ceo", "am", "lead", "auditor"},
    "readAuditTrail": {"cfo", "ceo", "am", "lead", "auditor"},
}


def attempt(url: str, person: str, operation: str, contract: str, expectation: str) -> bool:
    """Whether the person may do it: True allowed, False refused (never an internal error)."""
    documents = {
        "proposeExpectation": ('mutation($c: ID!) { r: proposeExpectation(input: {contractId: $c, text: "Matrix", businessArea: "x"}) { __typename } }', {"c": contract}),
        "refineExpectation": ('mutation($e: ID!) { r: refineExpectation(input: {expectationId: $e, text: "Matrix", reason: "r", terms: {metric: "m"}}) { __typename } }', {"e": expectation}),
        "giveProviderAdvice": ('mutation($e: ID!) { r: giveProviderAdvice(input: {expectationId: $e, advice: "a"}) { __typename } }', {"e": expectation}),
        "discloseRisk": ('mutation($c: ID!) { r: discloseRisk(input: {contractId: $c, kind: PROBLEM, title: "t", description: "d", likelihood: 2, impact: 2}) { __typename } }', {"c": contract}),
        "readContract": ("query($c: ID!) { r: contract(id: $c) { title } }", {"c": contract}),
        "readAuditTrail": ("query($c: ID!) { r: auditTrail(contractId: $c, first: 1) { edges { cursor } } }", {"c": contract}),
    }  # fmt: skip
    query, variables = documents[operation]
    body = ask(url, person, query, **variables)
    if "errors" in body:
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
        return False
    answer = body["data"]["r"]
    if "__typename" in answer:
        # An outsider learns nothing: to them an expectation is not there (NotFound).
        refused = {"Forbidden", "NotFound"} if ROLES[person] is None else {"Forbidden"}
        assert answer["__typename"] in {
            "ContractChanged", "ExpectationChanged", "RiskChanged", *refused
        }, answer  # fmt: skip
        return bool(answer["__typename"] not in refused)
    return True


def test_each_role_may_do_exactly_what_the_method_allows(accord: Any) -> None:
    url, demo, _ = accord
    contract = demo["contract_id"]
    auditor = """mutation($c: ID!) { joinContract(input: {contractId: $c, personId: "auditor",
        name: "Ada Audit", role: AUDITOR, side: CLIENT}) { __typename } }"""
    # The provider's account manager nominates the auditor; the client's sponsor confirms.
    for appointer in ("am", "ceo"):
        joined = ask(url, appointer, auditor, c=contract)
        assert joined["data"]["joinContract"]["__typename"] == "ContractChanged", joined
    expectation = ask(
        url, "cfo", "query($c: ID!) { contract(id: $c) { expectations { id } } }", c=contract
    )["data"]["contract"]["expectations"][0]["id"]
    seen = {
        (person, op): attempt(url, person, op, contract, expectation)
        for person in ROLES
        for op in MATRIX
    }
    expected = {
        (person, op): person in allowed for op, allowed in MATRIX.items() for person in ROLES
    }
    assert seen == expected


def test_graphiql_loads_every_asset_from_the_gateway_itself(accord: Any) -> None:
    import base64
    import hashlib
    import re

    url, _, _ = accord
    page = httpx.get(url, headers={"accept": "text/html"}, timeout=10)
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert "unpkg.com" not in page.text and "jsdelivr" not in page.text
    # It opens on an Accord example that says where the token goes and how to mint one.
    assert "accord token am" in page.text and "proposeExpectation(input:" in page.text
    assert "Welcome to GraphiQL" not in page.text
    assets = re.findall(
        r'(?:src|href)="(/graphiql-assets/[^"]+)"\s+integrity="sha384-([^"]+)"', page.text
    )
    assert len(assets) >= 5
    for asset, digest in assets:
        fetched = httpx.get(url.removesuffix("/graphql") + asset, timeout=10)
        assert fetched.status_code == 200, asset
        # The very file the public CDN serves: the browser checks the same hash.
        assert base64.b64encode(hashlib.sha384(fetched.content).digest()).decode() == digest, asset


ACKNOWLEDGE = """mutation($id: ID!) { acknowledgeNotification(input: {noticeId: $id}) {
    __typename ... on NotificationChanged { consistent notification { id acknowledgedAt } }
    ... on Refusal { code message } } }"""


def test_a_decision_maker_reads_and_acknowledges_their_notifications(accord: Any) -> None:
    import time

    url, demo, _ = accord
    query = """query($c: ID) { notifications(unreadOnly: true, contractId: $c, first: 100)
        { edges { node { id trigger subject } } } }"""

    def unread_now() -> list[dict[str, Any]]:
        page = ask(url, "cfo", query, c=demo["contract_id"])["data"]["notifications"]
        return [edge["node"] for edge in page["edges"]]

    deadline = time.monotonic() + 30
    while True:  # notices are delivered a moment after the events that cause them
        unread = unread_now()
        if "PRIORITIES_PUBLISHED" in {n["trigger"] for n in unread} or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "PRIORITIES_PUBLISHED" in {n["trigger"] for n in unread}, unread
    acknowledged = ask(url, "cfo", ACKNOWLEDGE, id=unread[0]["id"])["data"]
    notice = acknowledged["acknowledgeNotification"]
    assert notice["__typename"] == "NotificationChanged" and notice["consistent"], notice
    assert notice["notification"]["id"] == unread[0]["id"]
    assert notice["notification"]["acknowledgedAt"] is not None
    after = unread_now()
    # Other tests' changes may bring new notices meanwhile; the acknowledged one is gone.
    assert unread[0]["id"] not in {n["id"] for n in after}
    assert {n["id"] for n in unread[1:]} <= {n["id"] for n in after}
    someone_elses = ask(url, "cio", ACKNOWLEDGE, id=after[0]["id"])["data"]
    assert someone_elses["acknowledgeNotification"]["code"] == "UNKNOWN_NOTICE"


def test_the_account_manager_watches_deliveries_and_requeues_only_dead_letters(
    accord: Any,
) -> None:
    url, demo, _ = accord
    query = """query($c: ID!) { deliveries(contractId: $c, first: 100) { edges { node {
        noticeId personId channel status attempts lastReason } } } }"""
    page = ask(url, "am", query, c=demo["contract_id"])["data"]["deliveries"]
    deliveries = [edge["node"] for edge in page["edges"]]
    assert deliveries and {d["status"] for d in deliveries} <= {
        "QUEUED", "RETRYING", "DELIVERED", "DEAD_LETTERED"
    }  # fmt: skip
    delivered = next(d for d in deliveries if d["status"] == "DELIVERED")
    requeue = """mutation($c: ID!, $n: ID!) { requeueNotice(input: {contractId: $c, noticeId: $n})
        { __typename ... on Refusal { code message } } }"""
    not_dead = ask(url, "am", requeue, c=demo["contract_id"], n=delivered["noticeId"])["data"]
    assert not_dead["requeueNotice"]["__typename"] == "Conflict"
    assert "dead-lettered" in not_dead["requeueNotice"]["message"]
    by_decision_maker = ask(url, "cfo", requeue, c=demo["contract_id"], n=delivered["noticeId"])
    assert by_decision_maker["data"]["requeueNotice"]["__typename"] == "Forbidden"
    watched_by_outsider = ask(url, "mallory", query, c=demo["contract_id"])
    assert watched_by_outsider["errors"][0]["extensions"]["code"] == "FORBIDDEN"


INBOX = """query($first: Int!, $after: String, $unread: Boolean! = false) {
    notifications(first: $first, after: $after, unreadOnly: $unread) {
    edges { cursor node { id queuedAt } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
SENT = """query($c: ID!, $first: Int!, $after: String) {
    deliveries(contractId: $c, first: $first, after: $after) {
    edges { cursor node { noticeId queuedAt } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""


def read_pages(url: str, person: str, query: str, size: int, **variables: Any) -> list[Any]:
    """Every page of a connection, `size` items each, following `endCursor`: its nodes."""
    nodes: list[Any] = []
    after = None
    while True:
        body = ask(url, person, query, first=size, after=after, **variables)
        assert "errors" not in body, body
        [page] = body["data"].values()
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert len(page["edges"]) <= size
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        assert len(page["edges"]) == size
        after = page["pageInfo"]["endCursor"]


def settled_pages(
    url: str, person: str, query: str, size: int, **variables: Any
) -> tuple[Any, Any]:
    """The list in one page and in pages of `size`, read while no new item arrived between."""
    for _ in range(50):
        whole = read_pages(url, person, query, 100, **variables)
        paged = read_pages(url, person, query, size, **variables)
        if whole == read_pages(url, person, query, 100, **variables):
            return whole, paged
        time.sleep(0.2)
    raise AssertionError("the list kept changing")


def test_an_inbox_and_a_contracts_deliveries_are_read_a_page_at_a_time(accord: Any) -> None:
    """Before, the inbox was cut at its 100 newest notices with no way to the older ones, and
    the deliveries came all at once however many the contract had sent."""
    from datetime import datetime

    url, demo, _ = accord
    whole, paged = settled_pages(url, "am", SENT, 7, c=demo["contract_id"])
    assert len(whole) > 7 and paged == whole
    assert len({n["noticeId"] for n in whole}) == len(whole)
    sent_at = [datetime.fromisoformat(n["queuedAt"]) for n in whole]
    assert sent_at == sorted(sent_at)  # oldest first

    whole, paged = settled_pages(url, "cfo", INBOX, 2)
    assert len(whole) > 2 and paged == whole
    told_at = [datetime.fromisoformat(n["queuedAt"]) for n in whole]
    assert told_at == sorted(told_at, reverse=True)  # newest first

    # Reading on after a page is unmoved by what changed in it: the cfo reads the first two of
    # their unread notices and acknowledges one; the next page starts where the first ended.
    unread = [n["id"] for n in read_pages(url, "cfo", INBOX, 100, unread=True)]
    assert len(unread) > 3
    first = ask(url, "cfo", INBOX, first=2, unread=True)["data"]["notifications"]
    assert [e["node"]["id"] for e in first["edges"]] == unread[:2]
    done = ask(url, "cfo", ACKNOWLEDGE, id=unread[0])["data"]["acknowledgeNotification"]
    assert done["__typename"] == "NotificationChanged", done
    after = first["pageInfo"]["endCursor"]
    rest = ask(url, "cfo", INBOX, first=100, after=after, unread=True)["data"]["notifications"]
    assert [e["node"]["id"] for e in rest["edges"]] == unread[2:]

    for variables in ({"first": 0}, {"first": 101}, {"first": 2, "after": "not a cursor"}):
        for query, person, extra in ((INBOX, "cfo", {}), (SENT, "am", {"c": demo["contract_id"]})):
            body = ask(url, person, query, **variables, **extra)
            assert body["data"] is None, body
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    # A cursor of another list (its key not a notice's id) is not one the inbox gave out.
    delivery_cursor = ask(url, "am", SENT, c=demo["contract_id"], first=1)["data"]
    foreign = delivery_cursor["deliveries"]["edges"][0]["cursor"]
    body = ask(url, "cfo", INBOX, first=2, after=foreign)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


CHANGE_POLICY = """mutation($c: ID!, $t: NotificationTrigger!, $p: NotificationPolicyInput!) {
    changeNotificationPolicy(input: {contractId: $c, trigger: $t, policy: $p}) { __typename
    ... on NotificationPoliciesChanged { consistent policies { trigger recipients remindEvery
        remindBeforeDue default } }
    ... on Refusal { code message } } }"""
CHANGE_PREFERENCES = """mutation($c: ID!, $channel: NotificationChannel!, $hook: String! = "") {
    changeNotificationPreferences(input: {contractId: $c, channel: $channel, webhookUrl: $hook})
    { __typename ... on NotificationPreferencesChanged { preferences { personId channel cadence
        default } } ... on Refusal { code message } } }"""


def test_the_account_manager_changes_a_policy_and_a_person_how_they_are_reached(
    accord: Any,
) -> None:
    url, demo, _ = accord
    contract = demo["contract_id"]
    reminders = {
        "recipients": ["CLIENT_DECISION_MAKER", "NEEDED_FROM"],
        "remindEvery": "P3D", "remindBeforeDue": "PT12H",
    }  # fmt: skip
    changed = ask(url, "am", CHANGE_POLICY, c=contract, t="OBLIGATION_PROPOSED", p=reminders)
    answer = changed["data"]["changeNotificationPolicy"]
    assert answer["__typename"] == "NotificationPoliciesChanged" and answer["consistent"], answer
    policy = next(p for p in answer["policies"] if p["trigger"] == "OBLIGATION_PROPOSED")
    assert policy == {"trigger": "OBLIGATION_PROPOSED", **reminders, "default": False}
    read = ask(url, "cfo", "query($c: ID!) { notificationPolicies(contractId: $c) { trigger default } }", c=contract)  # fmt: skip
    assert {"trigger": "OBLIGATION_PROPOSED", "default": False} in read["data"][
        "notificationPolicies"
    ]
    by_decision_maker = ask(url, "cfo", CHANGE_POLICY, c=contract, t="RISK_DISCLOSED", p={})
    assert by_decision_maker["data"]["changeNotificationPolicy"]["__typename"] == "Forbidden"
    reminder = ask(url, "am", CHANGE_POLICY, c=contract, t="OBLIGATION_REMINDER", p={})
    assert reminder["data"]["changeNotificationPolicy"]["code"] == "INVALID_INPUT"
    not_a_duration = ask(url, "am", CHANGE_POLICY, c=contract, t="OBLIGATION_PROPOSED", p={"remindEvery": "soon"})  # fmt: skip
    assert not_a_duration["data"]["changeNotificationPolicy"]["code"] == "INVALID_INPUT"

    chosen = ask(url, "chro", CHANGE_PREFERENCES, c=contract, channel="IN_APP")
    answer = chosen["data"]["changeNotificationPreferences"]
    assert answer["preferences"] == [
        {"personId": "chro", "channel": "IN_APP", "cadence": "IMMEDIATE", "default": False}
    ]
    private = ask(url, "chro", CHANGE_PREFERENCES, c=contract, channel="WEBHOOK", hook="http://127.0.0.1/")  # fmt: skip
    refused = private["data"]["changeNotificationPreferences"]
    assert "code" in refused and "webhook" in refused["message"].lower(), refused


async def test_the_account_manager_is_notified_live_of_a_new_expectation(accord: Any) -> None:
    import asyncio

    import websockets

    url, demo, _ = accord
    async with websockets.connect(
        url.replace("http://", "ws://"), subprotocols=["graphql-transport-ws"]
    ) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"authorization": f"Bearer {mint_token(Settings(), 'am')}"},
                }
            )
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "n",
                    "type": "subscribe",
                    "payload": {
                        "query": "subscription { notifications { trigger subject contractId } }"
                    },
                }
            )
        )
        await asyncio.sleep(0.5)
        await asyncio.to_thread(
            ask,
            url,
            "cso",
            """mutation($c: ID!) { proposeExpectation(input: {contractId: $c,
            text: "Gift cards work online", businessArea: "stores"}) { __typename } }""",
            c=demo["contract_id"],
        )
        # The demo's last warnings (its risk's deadline) may still be reaching the account
        # manager: the notice looked for is the new expectation's.
        async with asyncio.timeout(20):
            while True:
                message = json.loads(await ws.recv())
                assert message["type"] == "next", message
                notice = message["payload"]["data"]["notifications"]
                if not notice["trigger"].startswith("DEADLINE_"):
                    break
        assert (
            notice["contractId"] == demo["contract_id"]
            and notice["trigger"] == "EXPECTATION_PROPOSED"
        )


def test_a_path_or_method_the_gateway_does_not_serve_is_answered_in_json(accord: Any) -> None:
    url, _, _ = accord
    missing = httpx.get(url.removesuffix("/graphql") + "/nothing/here", timeout=30)
    assert (missing.status_code, missing.json()["code"]) == (404, "NOT_FOUND"), missing.text
    wrong = httpx.delete(url, timeout=30)
    assert (wrong.status_code, wrong.json()["code"]) == (405, "METHOD_NOT_ALLOWED"), wrong.text
    # A query in the URL, or a GET that does not ask for the IDE page: before, plain text.
    for params, accept in (({"query": "{ version }"}, "*/*"), ({}, "application/json")):
        got = httpx.get(url, params=params, headers={"accept": accept}, timeout=30)
        assert (got.status_code, got.headers["allow"]) == (405, "POST"), got.text
        assert "JSON POST" in got.json()["errors"][0]["message"], got.text
