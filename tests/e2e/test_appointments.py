"""Who may appoint and remove whom, against the real `accord dev`, through GraphQL (the
elicitation service's HTTP API shows who is on record without waiting for a read model)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.accord_process import accord_env, accord_running, ask

ADMIN = "it-admin"

JOIN = """mutation($c: ID!, $p: String!, $r: Role!, $s: Side) {
  joinContract(input: {contractId: $c, personId: $p, name: $p, role: $r, side: $s}) {
    __typename ... on ContractChanged { consistent } ... on Refusal { code message } } }"""
LEAVE = """mutation($c: ID!, $p: String!) {
  leaveContract(input: {contractId: $c, personId: $p, reason: "Trying"}) {
    __typename ... on ContractChanged { consistent } ... on Refusal { code message } } }"""
PEOPLE = "query($c: ID!) { contract(id: $c) { participants { personId role } } }"


@pytest.fixture(scope="module")
def accord(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = accord_env(tmp_path_factory.mktemp("appointments"), ACCORD_ADMINISTRATORS=ADMIN)
    with accord_running(None, env) as running:
        yield running.url


def join(url: str, by: str, contract: str, person: str, role: str, side: str | None = None) -> Any:
    answer = ask(url, by, JOIN, c=contract, p=person, r=role.upper(), s=side and side.upper())
    assert "errors" not in answer, answer
    return answer["data"]["joinContract"]


def remove(url: str, by: str, contract: str, person: str) -> Any:
    """`by` asks that `person` leave the contract (themselves, or someone they appointed)."""
    answer = ask(url, by, LEAVE, c=contract, p=person)
    assert "errors" not in answer, answer
    return answer["data"]["leaveContract"]


def on_record(url: str, contract: str, asked_by: str) -> set[str]:
    """Who takes part, as the elicitation service holds it (the write side, no waiting)."""
    answer = httpx.get(f"{service(url)}/contracts/{contract}", headers=bearer(asked_by), timeout=30)
    assert answer.status_code == 200, answer.text
    return {p["person_id"] for p in answer.json()["participants"]}


def service(url: str) -> str:
    return url.removesuffix("/graphql") + "/elicitation"


def bearer(person: str) -> dict[str, str]:
    return {"authorization": f"Bearer {mint_token(Settings(), person)}"}


def people(url: str, contract: str) -> dict[str, str]:
    """Who takes part, as GraphQL shows it (a mutation answers once its change is shown): each
    role's enum name in lower case, as roles are written here."""
    answer = ask(url, "am", PEOPLE, c=contract)
    return {p["personId"]: p["role"].lower() for p in answer["data"]["contract"]["participants"]}


@pytest.fixture
def contract(accord: str) -> str:
    """A contract the provider's account manager opened and gave its first client person."""
    opened = ask(
        accord,
        "am",
        """mutation { openContract(input: {clientOrganisation: "Northwind", title: "Desk",
        providerOrganisation: "Contoso", startsOn: "2027-01-01", name: "Ann",
        role: PROVIDER_ACCOUNT_MANAGER}) { __typename ... on ContractChanged { contract { id } } } }""",
    )
    contract_id: str = opened["data"]["openContract"]["contract"]["id"]
    assert join(accord, "am", contract_id, "cfo", "client_decision_maker")["consistent"] is True
    return contract_id


def test_a_client_decision_maker_cannot_appoint_a_provider_account_manager(
    accord: str, contract: str
) -> None:
    refused = join(accord, "cfo", contract, "mallory", "provider_account_manager")
    assert refused["__typename"] == "Forbidden"
    assert refused["code"] == "NOT_YOUR_SIDE", refused
    assert people(accord, contract) == {
        "am": "provider_account_manager",
        "cfo": "client_decision_maker",
    }


def test_a_client_decision_maker_cannot_remove_the_providers_account_manager(
    accord: str, contract: str
) -> None:
    refused = remove(accord, "cfo", contract, "am")
    assert (refused["__typename"], refused["code"]) == ("Forbidden", "NOT_YOUR_SIDE"), refused
    assert "am" in on_record(accord, contract, asked_by="am")


def test_the_last_account_manager_stays_until_a_successor_joins(accord: str, contract: str) -> None:
    refused = remove(accord, "am", contract, "am")
    assert refused["code"] == "LAST_OF_ROLE", refused
    # An administrator has no role on the contract, so GraphQL tells them no more than that;
    # the service's HTTP API gives them the reason.
    by_administrator = httpx.post(
        f"{service(accord)}/contracts/{contract}/participants/leave",
        json={"person_id": "am"},
        headers=bearer(ADMIN),
        timeout=30,
    )
    assert (by_administrator.status_code, by_administrator.json()["code"]) == (422, "LAST_OF_ROLE")
    assert join(accord, "am", contract, "bo", "provider_account_manager")["consistent"] is True
    assert remove(accord, "am", contract, "am") == {
        "__typename": "ContractChanged",
        "consistent": True,
    }
    assert on_record(accord, contract, asked_by="bo") == {"bo", "cfo"}


def test_an_auditor_joins_by_both_sides_or_by_an_administrator(accord: str, contract: str) -> None:
    assert join(accord, "am", contract, "ada", "auditor", "client")["__typename"] == (
        "ContractChanged"
    )
    assert "ada" not in people(accord, contract)  # nominated, not yet confirmed
    again = join(accord, "am", contract, "ada", "auditor", "client")
    assert again["code"] == "AUDITOR_AWAITS_CONFIRMATION", again
    assert join(accord, "cfo", contract, "ada", "auditor", "client")["consistent"] is True
    assert people(accord, contract)["ada"] == "auditor"

    assert join(accord, ADMIN, contract, "ivy", "auditor", "provider")["consistent"] is True
    assert people(accord, contract)["ivy"] == "auditor"
