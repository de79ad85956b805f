"""The contract itself as a client reads it through `accord dev`: its version after each kind
of change (the one a command's `expectedVersion` must name), and the auditors one side named
while they await the other side.

Before, after a deadline policy was set or an auditor nominated (as `accord demo` does), the
contract read one version behind its stream, and a command sent with it was refused CONFLICT
on every try: reloading gave the same stale version; and after a question or an assumption
the payload's version was theirs (1), not the contract's. And a nominated auditor was nowhere to
be seen, and nobody told the other side there was one to confirm.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.e2e.accord_process import accord_env, accord_running, answer
from tests.e2e.contract_steps import JOIN, OPEN

VERSION = "query($c: ID!) { contract(id: $c) { version } }"
SET_POLICY = """mutation($c: ID!) { setDeadlinePolicy(input: {contractId: $c, thresholds: [50],
    acknowledgementWindow: "P3D"}) { __typename ... on ContractChanged { version }
    ... on Refusal { code message } } }"""
NOMINATE = """mutation($c: ID!, $p: String! = "ada") { joinContract(input: {contractId: $c,
    personId: $p, name: "Ada Auditor", role: AUDITOR, side: PROVIDER}) { __typename
    ... on ContractChanged { version } ... on Refusal { code message } } }"""
JOIN_AT = """mutation($c: ID!, $p: String!, $v: Int!) { joinContract(input: {contractId: $c,
    personId: $p, name: $p, role: PROVIDER_DELIVERY_LEAD, side: PROVIDER, expectedVersion: $v})
    { __typename ... on ContractChanged { version } ... on Refusal { code message } } }"""
ASK = """mutation($c: ID!) { askQuestion(input: {contractId: $c, askedOf: "cfo",
    businessArea: "finance", text: "What would make the report useful?"}) { __typename
    ... on ContractChanged { version } ... on Refusal { code message } } }"""
ASSUME = """mutation($c: ID!) { recordAssumption(input: {contractId: $c, text: "Tills stay",
    why: "costed on them"}) { __typename ... on ContractChanged { version }
    ... on Refusal { code message } } }"""
SPONSOR = """mutation($c: ID!) { joinContract(input: {contractId: $c, personId: "ceo",
    name: "Chief Executive", role: CLIENT_SPONSOR, side: CLIENT}) { __typename
    ... on Refusal { code message } } }"""
TOLD = "{ notifications(first: 100) { edges { node { trigger subject } } } }"
TOLD_ON = """query($c: ID!) { notifications(contractId: $c, first: 100) {
    edges { node { trigger subject text } } } }"""
AUDITORS = """query($c: ID!, $at: DateTime) { contract(id: $c, asOf: $at) {
    auditorNominations { personId name side nominatedBy nominatedAt confirmers }
    participants { personId role } } }"""


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("contract")
    with accord_running(folder, accord_env(folder / ".accord")) as running:
        yield running.url


def test_the_version_read_is_the_version_a_command_may_name(url: str) -> None:
    contract = str(answer(url, "am", OPEN)["created"])
    assert answer(url, "am", JOIN, c=contract)["__typename"] == "ContractChanged"  # cfo
    # A question and an assumption are aggregates of their own: the payload's version is the
    # contract's all the same (it was the question's or the assumption's, 1).
    for n, change in enumerate((SET_POLICY, NOMINATE, ASK, ASSUME)):
        changed = answer(url, "am", change, c=contract)
        assert changed["__typename"] == "ContractChanged", changed
        read = answer(url, "am", VERSION, c=contract)["version"]
        assert read == changed["version"]
        joined = answer(url, "am", JOIN_AT, c=contract, p=f"lead{n}", v=read)
        assert joined["__typename"] == "ContractChanged", joined
        assert joined["version"] == read + 1


def test_a_nominated_auditor_is_shown_to_both_sides_until_confirmed(url: str) -> None:
    contract = str(answer(url, "am", OPEN)["created"])
    assert answer(url, "am", JOIN, c=contract)["__typename"] == "ContractChanged"  # cfo
    sponsor = answer(url, "cfo", SPONSOR, c=contract)  # the client's first person appoints
    assert sponsor["__typename"] == "ContractChanged", sponsor
    assert answer(url, "am", NOMINATE, c=contract)["__typename"] == "ContractChanged"
    # The client's sponsor is told there is an auditor to confirm.
    told: list[dict[str, object]] = []
    for _ in range(100):  # notices are queued a moment after the event
        told = [
            edge["node"] for edge in answer(url, "ceo", TOLD)["edges"]
            if edge["node"]["trigger"] == "AUDITOR_NOMINATED"
        ]  # fmt: skip
        if told:
            break
        time.sleep(0.1)
    assert [n["subject"] for n in told] == ["Auditor to confirm: Ada Auditor, named by Ann Marsh"]
    for person in ("am", "cfo"):  # the side that named them, and the side that confirms
        shown = answer(url, person, AUDITORS, c=contract)
        [nominated] = shown["auditorNominations"]
        assert {k: v for k, v in nominated.items() if k != "nominatedAt"} == {
            "personId": "ada", "name": "Ada Auditor", "side": "PROVIDER", "nominatedBy": "am",
            "confirmers": ["ceo"],
        }  # fmt: skip
        assert "ada" not in {p["personId"] for p in shown["participants"]}
    before = datetime.now(UTC).isoformat()

    assert answer(url, "ceo", NOMINATE, c=contract)["__typename"] == "ContractChanged"
    now = answer(url, "cfo", AUDITORS, c=contract)
    assert now["auditorNominations"] == []
    assert {"personId": "ada", "role": "AUDITOR"} in now["participants"]
    # As the contract stood before the confirmation, the nomination was there.
    then = answer(url, "cfo", AUDITORS, c=contract, at=before)
    assert [n["personId"] for n in then["auditorNominations"]] == ["ada"]


ASKED = """mutation($c: ID!) { askQuestion(input: {contractId: $c, askedOf: "cfo",
    businessArea: "stores", text: "What breaks your Saturdays?"}) { __typename
    ... on ContractChanged { created } ... on Refusal { code message } } }"""
ANSWER = """mutation($c: ID!, $q: ID!, $v: Int!) { answerQuestion(input: {contractId: $c,
    questionId: $q, answer: "The tills", expectedVersion: $v}) { __typename
    ... on Refusal { code message } } }"""
RISK = """mutation($c: ID!) { discloseRisk(input: {contractId: $c, kind: PROBLEM, title: "Load",
    description: "December", likelihood: 3, impact: 4}) { __typename
    ... on RiskChanged { created } ... on Refusal { code message } } }"""
LESSON = """mutation($c: ID!, $r: ID!) { recordLessonLearned(input: {contractId: $c,
    lesson: "Test tills before December", riskIds: [$r]}) { __typename
    ... on ContractChanged { created } ... on Refusal { code message } } }"""
PLAN = """mutation($l: ID!, $v: Int!) { planPreventiveAction(input: {lessonId: $l,
    action: "Load test", owner: "am", dueOn: "2027-11-01", expectedVersion: $v}) { __typename
    ... on Refusal { code message } } }"""
VERSIONS = """query($c: ID!) { contract(id: $c) { questions { id version }
    lessons { id version } } }"""


def test_a_question_and_a_lesson_show_the_version_their_next_command_may_name(url: str) -> None:
    """Their payload answers the contract's version: their own are on them. Before, neither
    showed one, and the payload's was the only place to find it."""
    contract = str(answer(url, "am", OPEN)["created"])
    assert answer(url, "am", JOIN, c=contract)["__typename"] == "ContractChanged"  # cfo
    question = answer(url, "am", ASKED, c=contract)["created"]
    risk = answer(url, "am", RISK, c=contract)["created"]
    lesson = answer(url, "am", LESSON, c=contract, r=risk)["created"]

    def versions() -> dict[str, int]:
        shown = answer(url, "am", VERSIONS, c=contract)
        return {o["id"]: o["version"] for o in shown["questions"] + shown["lessons"]}

    assert versions() == {question: 1, lesson: 1}
    answered = answer(url, "cfo", ANSWER, c=contract, q=question, v=versions()[question])
    assert answered["__typename"] == "ContractChanged", answered
    planned = answer(url, "am", PLAN, l=lesson, v=versions()[lesson])
    assert planned["__typename"] == "ContractChanged", planned
    assert versions() == {question: 2, lesson: 2}


def test_a_client_without_a_sponsor_is_told_through_the_person_who_appoints_for_it(
    url: str,
) -> None:
    """Without a sponsor the client's first person appoints for it, and so confirms an
    auditor: before, the nomination's notice went to sponsors only, and so to nobody there."""
    contract = str(answer(url, "am", OPEN)["created"])
    assert answer(url, "am", JOIN, c=contract)["__typename"] == "ContractChanged"  # cfo
    assert answer(url, "am", NOMINATE, c=contract)["__typename"] == "ContractChanged"
    [nominated] = answer(url, "cfo", AUDITORS, c=contract)["auditorNominations"]
    assert nominated["confirmers"] == ["cfo"]
    told: list[dict[str, str]] = []
    for _ in range(100):  # notices are queued a moment after the event
        edges = answer(url, "cfo", TOLD_ON, c=contract)["edges"]
        told = [e["node"] for e in edges if e["node"]["trigger"] == "AUDITOR_NOMINATED"]
        if told:
            break
        time.sleep(0.1)
    [notice] = told
    assert notice["subject"] == "Auditor to confirm: Ada Auditor, named by Ann Marsh"
    assert "once CFO confirms them" in notice["text"]
    # And the one it names can: the auditor joins.
    assert answer(url, "cfo", NOMINATE, c=contract)["__typename"] == "ContractChanged"
    assert answer(url, "cfo", AUDITORS, c=contract)["auditorNominations"] == []
