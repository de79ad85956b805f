"""The commands GraphQL gained with the declarations, through GraphQL over HTTP on `accord dev`:
the provider records an accepted obligation as fulfilled or breached, and plans preventive
work from a lesson learned (an outsider cannot tell such a lesson from one that does not exist)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from tests.e2e.accord_process import accord_dev, ask

REFUSAL = "... on Refusal { code message }"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with accord_dev(tmp_path_factory.mktemp("settling")) as (url, _):
        yield url


def mutate(url: str, person: str, mutation: str, payload: str, **variables: Any) -> Any:
    """A mutation's success payload; anything else fails the test with the answer."""
    body = ask(url, person, mutation, **variables)
    assert "errors" not in body, body
    [answer] = body["data"].values()
    assert answer["__typename"] == payload, answer
    return answer


@pytest.fixture(scope="module")
def contract(url: str) -> str:
    """A contract with the provider's account manager and a client decision maker."""
    opened = mutate(url, "am", f"""mutation {{ openContract(input: {{clientOrganisation: "N",
        providerOrganisation: "C", title: "Desk", startsOn: "2027-01-01", name: "Ann",
        role: PROVIDER_ACCOUNT_MANAGER}}) {{ __typename {REFUSAL}
        ... on ContractChanged {{ created }} }} }}""", "ContractChanged")  # fmt: skip
    contract_id: str = opened["created"]
    mutate(url, "am", f"""mutation($c: ID!) {{ joinContract(input: {{contractId: $c,
        personId: "cfo", name: "Chris", role: CLIENT_DECISION_MAKER}}) {{ __typename {REFUSAL}
        }} }}""", "ContractChanged", c=contract_id)  # fmt: skip
    return contract_id


def accepted_obligation(url: str, contract: str) -> str:
    proposed = mutate(url, "am", f"""mutation($c: ID!) {{ proposeObligation(input: {{
        contractId: $c, what: "Remote access", neededFrom: "cfo", dueOn: "2027-01-15"}}) {{
        __typename {REFUSAL} ... on ObligationChanged {{ obligation {{ id }} }} }} }}""",
        "ObligationChanged", c=contract)  # fmt: skip
    obligation: str = proposed["obligation"]["id"]
    mutate(url, "cfo", f"""mutation($o: ID!) {{ acceptObligation(input: {{obligationId: $o}}) {{
        __typename {REFUSAL} }} }}""", "ObligationChanged", o=obligation)  # fmt: skip
    return obligation


SETTLED = "__typename {REFUSAL} ... on ObligationChanged {{ consistent obligation {{ status }} }}"


def test_the_provider_records_an_accepted_obligation_as_fulfilled(url: str, contract: str) -> None:
    obligation = accepted_obligation(url, contract)
    fulfilled = mutate(url, "am", f"""mutation($o: ID!) {{ fulfilObligation(input: {{
        obligationId: $o, note: "Access given on the 10th"}}) {{ {SETTLED.format(REFUSAL=REFUSAL)}
        }} }}""", "ObligationChanged", o=obligation)  # fmt: skip
    assert fulfilled["consistent"] is True
    assert fulfilled["obligation"]["status"].lower() == "fulfilled"


def test_the_provider_records_an_accepted_obligation_as_breached(url: str, contract: str) -> None:
    obligation = accepted_obligation(url, contract)
    breached = mutate(url, "am", f"""mutation($o: ID!) {{ breachObligation(input: {{
        obligationId: $o, whatHappened: "No access by the due date", impact: "A week late"}}) {{
        {SETTLED.format(REFUSAL=REFUSAL)} }} }}""", "ObligationChanged", o=obligation)  # fmt: skip
    assert breached["consistent"] is True
    assert breached["obligation"]["status"].lower() == "breached"


def test_a_client_decision_maker_cannot_settle_an_obligation(url: str, contract: str) -> None:
    obligation = accepted_obligation(url, contract)
    refused = mutate(url, "cfo", f"""mutation($o: ID!) {{ fulfilObligation(input: {{
        obligationId: $o}}) {{ __typename {REFUSAL} }} }}""", "Forbidden", o=obligation)  # fmt: skip
    assert refused["code"] == "NOT_PERMITTED", refused


PLAN = f"""mutation($l: ID!) {{ planPreventiveAction(input: {{lessonId: $l,
    action: "Keep a spare scanner in each store", owner: "am", dueOn: "2027-03-01"}}) {{
    __typename {REFUSAL}
    ... on ContractChanged {{ consistent created contract {{ id }} }} }} }}"""


def test_preventive_work_is_planned_from_a_lesson_and_shows_its_contract(
    url: str, contract: str
) -> None:
    risk = mutate(url, "am", f"""mutation($c: ID!) {{ discloseRisk(input: {{contractId: $c,
        kind: PROBLEM, title: "Cold stores", description: "Scanners fail below zero",
        likelihood: 3, impact: 2}}) {{ __typename {REFUSAL} ... on RiskChanged {{ risk {{ id }} }}
        }} }}""", "RiskChanged", c=contract)["risk"]["id"]  # fmt: skip
    learned = mutate(url, "am", f"""mutation($c: ID!, $r: [ID!]!) {{ recordLessonLearned(input: {{
        contractId: $c, lesson: "Scanners fail in the cold", riskIds: $r}}) {{ __typename
        {REFUSAL} ... on ContractChanged {{ created }} }} }}""", "ContractChanged", c=contract,
        r=[risk])  # fmt: skip
    planned = mutate(url, "am", PLAN, "ContractChanged", l=learned["created"])
    assert planned["consistent"] is True
    assert planned["contract"] == {"id": contract}
    assert planned["created"] not in (None, learned["created"])
    trail = ask(
        url, "am",
        """query($c: ID!) { auditTrail(contractId: $c, eventType: "PreventiveActionPlanned")
        { edges { node { data } } } }""", c=contract,
    )["data"]["auditTrail"]["edges"]  # fmt: skip
    [event] = [edge["node"]["data"] for edge in trail]
    assert (event["action_id"], event["lesson_id"]) == (planned["created"], learned["created"])

    outsider = mutate(url, "mallory", PLAN, "NotFound", l=learned["created"])
    missing = mutate(url, "mallory", PLAN, "NotFound", l=str(uuid4()))
    assert outsider["code"] == missing["code"] == "UNKNOWN_LESSON"
