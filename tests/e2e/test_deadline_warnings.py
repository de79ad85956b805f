"""Deadline warnings on a real `accord dev`, through GraphQL over HTTP: the provider's account
manager gives the contract a two-second acknowledgement window, discloses a risk nobody
acknowledges; the worker raises the warnings when the window runs out and GraphQL shows the
risk's deadline missed, with its owner. Nobody else may set the policy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.accord_process import accord_dev, ask

REFUSAL = "... on Refusal { code message }"


def mutate(url: str, person: str, mutation: str, **variables: Any) -> dict[str, Any]:
    body = ask(url, person, mutation, **variables)
    assert "errors" not in body, body
    [answer] = body["data"].values()
    return dict(answer)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with accord_dev(tmp_path_factory.mktemp("deadlines")) as (url, _):
        yield url


@pytest.fixture(scope="module")
def contract(url: str) -> str:
    opened = mutate(url, "am", f"""mutation {{ openContract(input: {{clientOrganisation: "N",
        providerOrganisation: "C", title: "Stores IT", startsOn: "2027-01-01",
        name: "Ann Manager", role: PROVIDER_ACCOUNT_MANAGER}}) {{ __typename {REFUSAL}
        ... on ContractChanged {{ created }} }} }}""")  # fmt: skip
    contract_id: str = opened["created"]
    for person, role in (("dm", "CLIENT_DECISION_MAKER"), ("lead", "PROVIDER_DELIVERY_LEAD")):
        joined = mutate(url, "am", f"""mutation($c: ID!, $p: String!, $r: Role!) {{
            joinContract(input: {{contractId: $c, personId: $p, name: $p, role: $r}})
            {{ __typename {REFUSAL} }} }}""", c=contract_id, p=person, r=role)  # fmt: skip
        assert joined["__typename"] == "ContractChanged", joined
    return contract_id


SET_POLICY = f"""mutation($c: ID!, $w: Duration!) {{ setDeadlinePolicy(input: {{contractId: $c,
    thresholds: [50], acknowledgementWindow: $w}}) {{ __typename {REFUSAL} }} }}"""


def test_only_the_providers_account_manager_sets_the_policy(url: str, contract: str) -> None:
    refused = mutate(url, "lead", SET_POLICY, c=contract, w="P1D")
    assert refused["__typename"] == "Forbidden" or refused.get("code") == "NOT_PERMITTED", refused


def test_an_unacknowledged_risk_misses_its_deadline_in_graphql(url: str, contract: str) -> None:
    assert mutate(url, "am", SET_POLICY, c=contract, w="PT2S")["__typename"] == "ContractChanged"
    disclosed = mutate(url, "am", f"""mutation($c: ID!) {{ discloseRisk(input: {{contractId: $c,
        kind: PROBLEM, title: "Firmware", description: "Support ends", likelihood: 3,
        impact: 4}}) {{ __typename {REFUSAL} ... on RiskChanged {{ risk {{ id
        deadline {{ state timeLeft dueAt kind }} }} }} }} }}""", c=contract)  # fmt: skip
    assert disclosed["__typename"] == "RiskChanged", disclosed
    risk = disclosed["risk"]
    assert risk["deadline"]["state"] == "ON_TRACK"
    assert risk["deadline"]["kind"] == "RISK_ACKNOWLEDGEMENT"

    read = """query($c: ID!) { contract(id: $c) { risks { id
        deadline { state timeLeft owner } } } }"""
    deadline: dict[str, Any] = {}
    for _ in range(100):  # the window is two seconds; the worker looks every second
        body = ask(url, "am", read, c=contract)
        assert "errors" not in body, body
        [found] = [r for r in body["data"]["contract"]["risks"] if r["id"] == risk["id"]]
        deadline = found["deadline"]
        if deadline["state"] == "MISSED":
            break
        time.sleep(0.1)
    assert deadline["state"] == "MISSED", deadline
    assert deadline["owner"] == "am"
    assert deadline["timeLeft"] in ("PT0S", "P0D", "0:00:00"), deadline

    # The owner (here also the account manager) hears of it, in the app by default.
    heard: list[str] = []
    for _ in range(100):
        body = ask(url, "am", "{ notifications(first: 100) { edges { node { trigger } } } }")
        assert "errors" not in body, body
        heard = [n["node"]["trigger"] for n in body["data"]["notifications"]["edges"]]
        if "DEADLINE_MISSED" in heard:
            break
        time.sleep(0.1)
    assert "DEADLINE_MISSED" in heard, heard
