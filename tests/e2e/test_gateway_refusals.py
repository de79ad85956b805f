"""Nothing a caller sends makes the gateway fail: odd input to the real `accord dev`, over
GraphQL over HTTP, is refused with a code (or accepted and works), never an internal error;
ids never become part of a service URL; outsiders learn nothing from an id; and each refusal
is one line in the log, without a traceback."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest

from tests.e2e.accord_process import RunningAccord, accord_env, accord_running, answer
from tests.e2e.test_graphql_api import ask

REFUSED = "__typename ... on Refusal { code message details }"


@dataclass
class Story:
    """A contract with something of each kind on record, and the ids of each."""

    contract: str
    expectations: list[str]
    obligation: str
    prioritization: str


@pytest.fixture(scope="module")
def accord(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAccord]:
    with accord_running(None, accord_env(tmp_path_factory.mktemp("refusals"))) as running:
        yield running


@pytest.fixture(scope="module")
def url(accord: RunningAccord) -> str:
    return accord.url


def mutate(url: str, person: str, mutation: str, **variables: Any) -> dict[str, Any]:
    changed = answer(url, person, mutation, **variables)
    assert changed["__typename"].endswith("Changed"), changed
    return changed


@pytest.fixture(scope="module")
def story(url: str) -> Story:
    """Opened, staffed, two measurable expectations, an accepted obligation, an open vote
    with one ballot: all through GraphQL."""
    contract = mutate(url, "am", f"""mutation {{ openContract(input: {{clientOrganisation: "N",
        providerOrganisation: "C", title: "Probe", startsOn: "2027-01-01", name: "Ann",
        role: PROVIDER_ACCOUNT_MANAGER}}) {{ {REFUSED} ... on ContractChanged {{ created }} }} }}""")["created"]  # fmt: skip
    join = f"""mutation($c: ID!, $p: String!, $r: Role!) {{ joinContract(input: {{contractId: $c,
        personId: $p, name: $p, role: $r}}) {{ {REFUSED} }} }}"""
    mutate(url, "am", join, c=contract, p="ceo", r="CLIENT_SPONSOR")
    mutate(url, "ceo", join, c=contract, p="cso", r="CLIENT_DECISION_MAKER")
    expectations = []
    for text in ("Tills work", "Wi-Fi works"):
        expectation = mutate(url, "cso", f"""mutation($c: ID!, $t: String!) {{ proposeExpectation(
            input: {{contractId: $c, text: $t, businessArea: "stores"}}) {{ {REFUSED}
            ... on ExpectationChanged {{ created }} }} }}""", c=contract, t=text)["created"]  # fmt: skip
        mutate(url, "am", f"""mutation($e: ID!, $t: String!) {{ refineExpectation(input: {{
            expectationId: $e, text: $t, reason: "measurable", terms: {{metric: "availability",
            comparison: AT_LEAST, target: "99", unit: "percent", recurrence: MONTHLY,
            measurementMethod: "monitoring", measuredBy: "provider"}}}}) {{ {REFUSED} }} }}""",
            e=expectation, t=text)  # fmt: skip
        expectations.append(expectation)
    obligation = mutate(url, "am", f"""mutation($c: ID!) {{ proposeObligation(input: {{
        contractId: $c, what: "Store network access", neededFrom: "cso", dueOn: "2027-01-15"}}) {{
        {REFUSED} ... on ObligationChanged {{ created }} }} }}""", c=contract)["created"]  # fmt: skip
    mutate(url, "cso", f"""mutation($o: ID!) {{ acceptObligation(input: {{obligationId: $o}}) {{
        {REFUSED} }} }}""", o=obligation)  # fmt: skip
    opening = f"""mutation($c: ID!) {{ openPrioritization(input: {{contractId: $c, method: BORDA}})
        {{ {REFUSED} ... on PrioritizationChanged {{ created }} }} }}"""
    deadline = time.monotonic() + 30
    while True:  # the ranking service learns the contract from its events, a moment later
        opened = ask(url, "am", opening, c=contract)["data"]["openPrioritization"]
        if opened["__typename"] == "PrioritizationChanged" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert opened["__typename"] == "PrioritizationChanged", opened
    mutate(url, "cso", f"""mutation($p: ID!, $r: [ID!]) {{ castVote(input: {{prioritizationId: $p,
        ranking: $r}}) {{ {REFUSED} }} }}""", p=opened["created"], r=expectations)  # fmt: skip
    return Story(contract, expectations, obligation, opened["created"])


def coded(body: dict[str, Any]) -> str:
    """The one code of a refused operation: its GraphQL error's, or its refusal's."""
    assert "Internal error" not in str(body), body
    if "errors" in body:
        return str(body["errors"][0]["extensions"]["code"])
    [refused] = body["data"].values()
    return str(refused["code"])


# Control characters in ids: each read and each forwarded command refuses them as bad input.

ODD_IDS = ["\x00", "abc\x00def", "\x07", "\u0085", "x", "../contracts", ""]
READS = [
    "query($id: ID!) { contract(id: $id) { title } }",
    "query($id: ID!) { expectation(id: $id) { text } }",
    "query($id: ID!) { expectationHistory(id: $id) { version } }",
    "query($id: ID!) { prioritization(id: $id) { status } }",
    "query($id: ID!) { gapAnalysis(contractId: $id) { met } }",
    "query($id: ID!) { auditTrail(contractId: $id) { edges { cursor } } }",
    "query($id: ID!) { deliveries(contractId: $id) { edges { cursor } } }",
    "query($id: ID) { notifications(contractId: $id) { edges { cursor } } }",
]
COMMANDS = [
    f'mutation($id: ID!) {{ commitToExpectation(input: {{expectationId: $id}}) {{ {REFUSED} }} }}',
    f'mutation($id: ID!) {{ proposeExpectation(input: {{contractId: $id, text: "t", businessArea: "b"}}) {{ {REFUSED} }} }}',
    f'mutation($id: ID!) {{ acceptObligation(input: {{obligationId: $id}}) {{ {REFUSED} }} }}',
    f'mutation($id: ID!) {{ castVote(input: {{prioritizationId: $id, ranking: [$id]}}) {{ {REFUSED} }} }}',
    f'mutation($id: ID!) {{ proposeExpectation(input: {{contractId: "{uuid4()}", text: "t", businessArea: "b", fromAnswers: [$id]}}) {{ {REFUSED} }} }}',
]  # fmt: skip
NOTICES = [
    f'mutation($id: ID!) {{ acknowledgeNotification(input: {{noticeId: $id}}) {{ {REFUSED} }} }}',
    f'mutation($id: ID!) {{ requeueNotice(input: {{contractId: "{uuid4()}", noticeId: $id}}) {{ {REFUSED} }} }}',
    f'mutation($id: ID!) {{ requeueNotice(input: {{contractId: $id, noticeId: "{uuid4()}"}}) {{ {REFUSED} }} }}',
]  # fmt: skip


@pytest.mark.parametrize("odd", ODD_IDS)
def test_an_id_that_is_not_a_uuid_is_bad_input_wherever_it_goes(url: str, odd: str) -> None:
    for query in READS:
        assert coded(ask(url, "am", query, id=odd)) == "BAD_USER_INPUT", query
    for mutation in COMMANDS + NOTICES:
        assert coded(ask(url, "am", mutation, id=odd)) == "ID_INVALID", mutation
    global_id = base64.urlsafe_b64encode(f"Expectation:{odd}".encode()).decode()
    node = ask(url, "am", "query($id: ID!) { node(id: $id) { __typename } }", id=global_id)
    assert coded(node) == "BAD_USER_INPUT"


def test_a_control_character_in_a_text_filter_is_bad_input(url: str, story: Story) -> None:
    for query, variables in [
        ("query($v: String) { contracts(clientOrganisation: $v) { edges { cursor } } }", {}),
        ("query($c: ID!, $v: String) { auditTrail(contractId: $c, eventType: $v) { edges { cursor } } }", {"c": story.contract}),
        ("query($c: ID!, $v: String) { auditTrail(contractId: $c, actorId: $v) { edges { cursor } } }", {"c": story.contract}),
    ]:  # fmt: skip
        assert coded(ask(url, "am", query, v="a\x00b", **variables)) == "BAD_USER_INPUT", query


def test_an_id_in_any_case_or_form_of_a_uuid_finds_the_same_object(url: str, story: Story) -> None:
    query = "query($id: ID!) { expectation(id: $id) { id } }"
    shouted = ask(url, "cso", query, id=story.expectations[0].upper())
    assert shouted == {"data": {"expectation": {"id": story.expectations[0]}}}


# Ids never add to a service URL: what reads as a path or a query is refused, nothing changes.


def test_an_id_that_reads_as_a_path_is_refused_and_changes_nothing(url: str, story: Story) -> None:
    before = ask(url, "cso", STATE, c=story.contract, p=story.prioritization)["data"]
    fulfil = f"../obligations/{story.obligation}/fulfil?x="
    committed = ask(url, "am", f"""mutation($id: ID!) {{ commitToExpectation(input: {{
        expectationId: $id}}) {{ {REFUSED} }} }}""", id=fulfil)["data"]["commitToExpectation"]  # fmt: skip
    assert committed["__typename"] == "BadInput" and committed["code"] == "ID_INVALID"
    assert committed["details"] == {"field": "expectationId", "value": fulfil}
    withdraw = f"{story.prioritization}/votes/withdraw?x="
    closed = ask(url, "cso", f"""mutation($id: ID!) {{ closePrioritization(input: {{
        prioritizationId: $id}}) {{ {REFUSED} }} }}""", id=withdraw)["data"]["closePrioritization"]  # fmt: skip
    assert closed["__typename"] == "BadInput" and closed["code"] == "ID_INVALID"
    after = ask(url, "cso", STATE, c=story.contract, p=story.prioritization)["data"]
    assert after == before
    assert after["contract"]["obligations"] == [{"id": story.obligation, "status": "ACCEPTED"}]
    assert after["prioritization"]["ballots"] == [{"voter": "cso"}]


STATE = """query($c: ID!, $p: ID!) { contract(id: $c) { version obligations { id status } }
    prioritization(id: $p) { status version ballots { voter } } }"""


# Variables that do not coerce answer as the same value written inline does.

COERCIONS = [
    ("contracts(first: {})", "Int!", "2147483648", 2147483648),
    ("contracts(first: {})", "Int!", "1.5", 1.5),
    ("contracts(first: {})", "Int!", "null", None),
    ('expectation(id: "{id}", asOf: {})', "DateTime", '"last tuesday"', "last tuesday"),
    ('expectation(id: "{id}", version: {})', "Int", "2147483648", 2147483648),
]


@pytest.mark.parametrize(("field", "kind", "inline", "value"), COERCIONS)
def test_a_variable_that_does_not_coerce_is_refused_as_the_same_value_inline(
    url: str, story: Story, field: str, kind: str, inline: str, value: Any
) -> None:
    selection = "{ __typename }" if field.startswith("contracts") else "{ id }"
    field = field.replace("{id}", story.expectations[0])
    written = ask(url, "cso", f"{{ {field.format(inline)} {selection} }}")
    sent = ask(url, "cso", f"query($v: {kind}) {{ {field.format('$v')} {selection} }}", v=value)
    assert coded(written) == coded(sent) == "GRAPHQL_VALIDATION_FAILED", (written, sent)


def test_a_date_that_is_not_one_is_refused_inline_and_as_a_variable(url: str, story: Story) -> None:
    mutation = """mutation($e: ID!, $d: Date!) {{ recordMeasurement(input: {{expectationId: $e,
        periodStart: {}, periodEnd: $d, value: "1", source: "s"}}) {{ __typename }} }}"""
    written = ask(
        url, "lead", mutation.format('"2027-02-30"'), e=story.expectations[0], d="2027-03-01"
    )
    sent = ask(url, "lead", mutation.format("$d"), e=story.expectations[0], d="2027-02-30")
    assert coded(written) == coded(sent) == "GRAPHQL_VALIDATION_FAILED"


# Instants at the ends of the calendar are taken, and compare as they should.

EARLIEST, LATEST = "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"


def test_instants_at_the_ends_of_the_calendar_are_before_and_after_everything(
    url: str, story: Story
) -> None:
    as_of = "query($id: ID!, $at: DateTime) { expectation(id: $id, asOf: $at) { text } }"
    assert ask(url, "cso", as_of, id=story.expectations[0], at=EARLIEST) == {"data": {"expectation": None}}  # fmt: skip
    latest = ask(url, "cso", as_of, id=story.expectations[0], at=LATEST)
    assert latest == {"data": {"expectation": {"text": "Tills work"}}}
    trail = """query($c: ID!, $since: DateTime, $until: DateTime, $after: String) {
        auditTrail(contractId: $c, since: $since, until: $until, after: $after, first: 100) {
        edges { cursor } } }"""
    everything = ask(url, "cso", trail, c=story.contract, since=EARLIEST, until=LATEST)
    assert len(everything["data"]["auditTrail"]["edges"]) > 5
    assert ask(url, "cso", trail, c=story.contract, until=EARLIEST)["data"]["auditTrail"]["edges"] == []  # fmt: skip
    assert ask(url, "cso", trail, c=story.contract, since=LATEST)["data"]["auditTrail"]["edges"] == []  # fmt: skip
    for at, expected in [(EARLIEST, everything["data"]["auditTrail"]["edges"]), (LATEST, [])]:
        cursor = base64.urlsafe_b64encode(f"{at}|x".encode()).decode()
        paged = ask(url, "cso", trail, c=story.contract, after=cursor)
        assert paged["data"]["auditTrail"]["edges"] == expected
        contracts = ask(url, "am", "query($a: String) { contracts(after: $a) { edges { cursor } } }", a=cursor)  # fmt: skip
        assert "errors" not in contracts, contracts


# Outsiders: an object that exists and one that does not get the same answer.


def same_answer(url: str, query: str, existing: str, **variables: Any) -> dict[str, Any]:
    """What an outsider gets for an existing id, checked to be what they get for a missing one
    (the id itself aside), and to name nothing else of the contract."""
    missing = str(uuid4())
    seen = ask(url, "mallory", query, id=existing, **variables)
    unseen = ask(url, "mallory", query, id=missing, **variables)
    for body in (seen, unseen):
        for error in body.get("errors", []):
            error["extensions"].pop("requestId", None)
    assert re.sub(existing, "ID", str(seen)) == re.sub(missing, "ID", str(unseen))
    return seen


def test_an_outsider_cannot_tell_an_existing_object_from_a_missing_one(
    url: str, story: Story
) -> None:
    expectation, contract = story.expectations[0], story.contract
    for query in [
        "query($id: ID!) { expectation(id: $id) { text } }",
        "query($id: ID!) { prioritization(id: $id) { status } }",
    ]:
        key = story.prioritization if "prioritization" in query else expectation
        assert same_answer(url, query, key)["data"] in ({"expectation": None}, {"prioritization": None})  # fmt: skip
    history = same_answer(url, "query($id: ID!) { expectationHistory(id: $id) { version } }", expectation)  # fmt: skip
    assert history == {"data": {"expectationHistory": []}}
    closed = same_answer(url, "query($id: ID!) { contract(id: $id) { title } }", contract)
    assert closed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for mutation, key, kind in [
        (f"mutation($id: ID!) {{ commitToExpectation(input: {{expectationId: $id}}) {{ {REFUSED} }} }}", expectation, "NotFound"),
        (f"mutation($id: ID!) {{ acceptObligation(input: {{obligationId: $id}}) {{ {REFUSED} }} }}", story.obligation, "NotFound"),
        (f"mutation($id: ID!) {{ closePrioritization(input: {{prioritizationId: $id}}) {{ {REFUSED} }} }}", story.prioritization, "NotFound"),
        (f'mutation($id: ID!) {{ proposeExpectation(input: {{contractId: $id, text: "t", businessArea: "b"}}) {{ {REFUSED} }} }}', contract, "Forbidden"),
        (f'mutation($id: ID!) {{ openPrioritization(input: {{contractId: $id, method: BORDA}}) {{ {REFUSED} }} }}', contract, "Forbidden"),
    ]:  # fmt: skip
        answer = same_answer(url, mutation, key)
        [refusal] = answer["data"].values()
        assert refusal["__typename"] == kind, refusal
        assert contract not in str(refusal) or key == contract


# Each mutation that creates something answers its id.


def test_every_mutation_that_creates_something_answers_its_id(url: str, story: Story) -> None:
    lesson = mutate(url, "am", f"""mutation($c: ID!, $e: ID!) {{ recordLessonLearned(input: {{contractId: $c,
        lesson: "keep a spare till", expectationIds: [$e]}}) {{ {REFUSED}
        ... on ContractChanged {{ created contract {{ id }} }} }} }}""", c=story.contract,
        e=story.expectations[0])  # fmt: skip
    assert lesson["contract"] == {"id": story.contract} and lesson["created"]
    assert lesson["created"] != story.contract
    risk = mutate(url, "am", f"""mutation($c: ID!) {{ discloseRisk(input: {{contractId: $c,
        kind: PROBLEM, title: "t", description: "d", likelihood: 2, impact: 2}}) {{ {REFUSED}
        ... on RiskChanged {{ created risk {{ id }} }} }} }}""", c=story.contract)  # fmt: skip
    assert risk["created"] == risk["risk"]["id"]
    question = mutate(url, "am", f"""mutation($c: ID!) {{ askQuestion(input: {{contractId: $c,
        askedOf: "cso", businessArea: "stores", text: "What breaks first?"}}) {{ {REFUSED}
        ... on ContractChanged {{ created }} }} }}""", c=story.contract)  # fmt: skip
    assert question["created"] not in (None, story.contract)
    committed = mutate(url, "am", f"""mutation($e: ID!) {{ commitToExpectation(input: {{
        expectationId: $e}}) {{ {REFUSED} ... on ExpectationChanged {{ created }} }} }}""",
        e=story.expectations[1])  # fmt: skip
    assert committed["created"] is None  # a change, not a creation


# A refusal is an answer, not a fault: at most one line in the log, never a traceback.


def test_refusals_leave_no_traceback_in_the_log(accord: RunningAccord, story: Story) -> None:
    import httpx

    from shared.auth import mint_token
    from shared.settings import Settings

    token = mint_token(Settings(), "mallory")
    sent = []
    for query, variables in [
        ("query($id: ID!) { contract(id: $id) { title } }", {"id": story.contract}),
        ("query($id: ID!) { contract(id: $id) { title } }", {"id": "x\x00"}),
        ("query($n: Int!) { contracts(first: $n) { edges { cursor } } }", {"n": 1.5}),
        ("query($at: DateTime) { expectation(id: \"x\", asOf: $at) { id } }", {"at": "last tuesday"}),
        ("{ contract(id: 1) { nonsense } }", {}),
        (f"mutation($id: ID!) {{ commitToExpectation(input: {{expectationId: $id}}) {{ {REFUSED} }} }}", {"id": story.expectations[0]}),
    ]:  # fmt: skip
        request_id = f"probe-{uuid4()}"
        answer = httpx.post(
            accord.url, json={"query": query, "variables": variables}, timeout=30,
            headers={"authorization": f"Bearer {token}", "x-request-id": request_id},
        ).json()  # fmt: skip
        assert "Internal error" not in str(answer), answer
        sent.append(request_id)
    # The last answer is in: its log lines, if any, were written before it (stderr is read
    # by a thread as it comes, so give it a moment to catch up).
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and sent[-1] not in accord.output:
        time.sleep(0.1)
    # Refused for sure, each exactly once in the log, with its request id: two mistakes in one
    # document, and a member's command the service refuses (it logs it; the gateway does not
    # log it again, though both run in this one process).
    refused = []
    for person, query, variables in [
        ("mallory", "{ healht nonsense }", {}),
        ("cso", f"mutation($o: ID!) {{ acceptObligation(input: {{obligationId: $o}}) {{ {REFUSED} }} }}",
         {"o": story.obligation}),
    ]:  # fmt: skip
        request_id = f"probe-{uuid4()}"
        answer = httpx.post(
            accord.url, json={"query": query, "variables": variables}, timeout=30,
            headers={"authorization": f"Bearer {mint_token(Settings(), person)}",
                     "x-request-id": request_id},
        ).json()  # fmt: skip
        assert "errors" in answer or answer["data"]["acceptObligation"]["code"], answer
        refused.append(request_id)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and refused[-1] not in accord.output:
        time.sleep(0.1)
    output = accord.output
    assert "Traceback" not in output, output
    for request_id in sent:
        assert output.count(request_id) <= 1, output
    for request_id in refused:
        assert output.count(request_id) == 1, output
