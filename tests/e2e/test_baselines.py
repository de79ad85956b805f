"""Signed baselines through GraphQL over HTTP on a real `accord dev`: the agreed set with its
published ranking frozen, signed by the client's sponsor and the provider's account manager
with fresh logins (a stale one refused), complete, compared with a later baseline after a
refinement, revoked; and listed with their signatures."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.accord_process import accord_dev

REFUSAL = "... on Refusal { code message }"
CHANGED = (
    f"__typename {REFUSAL} ... on BaselineChanged {{ created baseline {{ id status complete }} }}"
)


def post(url: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(
        url,
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


def fresh(person: str) -> str:
    return mint_token(Settings(), person)


def stale(person: str, minutes: int = 10) -> str:
    """A token of a login `minutes` ago: still valid, no longer fresh enough to sign."""
    return mint_token(Settings(), person, issued_at=int(time.time()) - minutes * 60)


def mutate(url: str, person: str, query: str, payload: str, **variables: Any) -> Any:
    [answer] = post(url, fresh(person), query, **variables).values()
    assert answer["__typename"] == payload, answer
    return answer


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with accord_dev(tmp_path_factory.mktemp("baselines")) as (url, _):
        yield url


def refine_and_commit(url: str, expectation: str, target: str) -> None:
    mutate(url, "am", f"""mutation($e: ID!) {{ refineExpectation(input: {{expectationId: $e,
        text: "Tills are available in business hours", reason: "agreed target",
        terms: {{metric: "till availability", comparison: AT_LEAST, target: "{target}",
        unit: "percent", recurrence: MONTHLY, measurementMethod: "monitoring",
        measuredBy: "provider"}}}}) {{ __typename {REFUSAL} }} }}""",
        "ExpectationChanged", e=expectation)  # fmt: skip
    mutate(url, "am", f"""mutation($e: ID!) {{ commitToExpectation(input: {{expectationId: $e}})
        {{ __typename {REFUSAL} }} }}""", "ExpectationChanged", e=expectation)  # fmt: skip


@pytest.fixture(scope="module")
def agreed(url: str) -> tuple[str, str]:
    """A contract with a committed expectation and a published corporate ranking."""
    opened = mutate(url, "am", f"""mutation {{ openContract(input: {{clientOrganisation: "N",
        providerOrganisation: "C", title: "Stores IT", startsOn: "2027-01-01", name: "Ann Manager",
        role: PROVIDER_ACCOUNT_MANAGER}}) {{ __typename {REFUSAL}
        ... on ContractChanged {{ created }} }} }}""", "ContractChanged")  # fmt: skip
    contract: str = opened["created"]
    join = f"""mutation($c: ID!, $p: String!, $n: String!, $r: Role!) {{ joinContract(input: {{
        contractId: $c, personId: $p, name: $n, role: $r}}) {{ __typename {REFUSAL} }} }}"""
    mutate(url, "am", join, "ContractChanged", c=contract, p="sponsor", n="Sam Sponsor",
           r="CLIENT_SPONSOR")  # fmt: skip
    mutate(url, "sponsor", join, "ContractChanged", c=contract, p="cfo", n="Chris Finance",
           r="CLIENT_DECISION_MAKER")  # fmt: skip
    proposed = mutate(url, "cfo", f"""mutation($c: ID!) {{ proposeExpectation(input: {{
        contractId: $c, text: "Tills work", businessArea: "stores"}}) {{ __typename {REFUSAL}
        ... on ExpectationChanged {{ created }} }} }}""", "ExpectationChanged", c=contract)  # fmt: skip
    expectation: str = proposed["created"]
    refine_and_commit(url, expectation, "99.5")
    session = mutate(url, "am", f"""mutation($c: ID!) {{ openPrioritization(input: {{
        contractId: $c, method: BORDA}}) {{ __typename {REFUSAL}
        ... on PrioritizationChanged {{ created }} }} }}""", "PrioritizationChanged",
        c=contract)["created"]  # fmt: skip
    mutate(url, "cfo", f"""mutation($s: ID!, $e: ID!) {{ castVote(input: {{prioritizationId: $s,
        ranking: [$e]}}) {{ __typename {REFUSAL} }} }}""", "PrioritizationChanged", s=session,
        e=expectation)  # fmt: skip
    mutate(url, "am", f"""mutation($s: ID!) {{ closePrioritization(input: {{prioritizationId: $s}})
        {{ __typename {REFUSAL} }} }}""", "PrioritizationChanged", s=session)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = post(url, fresh("am"), """query($c: ID!) { contract(id: $c) {
            expectations { corporatePriority } } }""", c=contract)  # fmt: skip
        if shown["contract"]["expectations"][0]["corporatePriority"] == 1:
            break
        time.sleep(0.1)
    return contract, expectation


def propose(url: str, contract: str, title: str) -> dict[str, Any]:
    answer: dict[str, Any] = mutate(url, "am", f"""mutation($c: ID!, $t: String!) {{
        proposeBaseline(input: {{contractId: $c, title: $t}}) {{ {CHANGED} }} }}""",
        "BaselineChanged", c=contract, t=title)  # fmt: skip
    return answer


SIGN = f"""mutation($b: ID!, $m: Meaning!) {{ signBaseline(input: {{baselineId: $b, meaning: $m}})
    {{ {CHANGED} }} }}"""


def test_a_baseline_is_signed_by_both_required_signers_compared_and_revoked(
    url: str, agreed: tuple[str, str]
) -> None:
    contract, expectation = agreed
    first = propose(url, contract, "Scope at signature")
    baseline = first["created"]
    assert first["baseline"] == {"id": baseline, "status": "PROPOSED", "complete": False}

    [signed] = post(url, fresh("sponsor"), SIGN, b=baseline, m="APPROVED").values()
    assert signed["baseline"]["status"] == "PROPOSED"
    [refused] = post(url, stale("am"), SIGN, b=baseline, m="RESPONSIBLE").values()
    assert refused["__typename"] == "Forbidden"
    assert refused["code"] == "REAUTHENTICATION_REQUIRED"
    [signed] = post(url, fresh("am"), SIGN, b=baseline, m="RESPONSIBLE").values()
    assert signed["baseline"] == {"id": baseline, "status": "COMPLETE", "complete": True}

    refine_and_commit(url, expectation, "99.9")
    later = propose(url, contract, "Scope after the target was raised")["created"]
    compared = post(url, fresh("cfo"), """query($a: ID!, $b: ID!) { compareBaselines(a: $a, b: $b)
        { identical changes { path change old new } } }""", a=baseline, b=later)  # fmt: skip
    changes = {c["path"]: c for c in compared["compareBaselines"]["changes"]}
    assert compared["compareBaselines"]["identical"] is False
    assert changes[f"expectations.{expectation}.terms.target"] == {
        "path": f"expectations.{expectation}.terms.target",
        "change": "CHANGED",
        "old": "99.5",
        "new": "99.9",
    }
    assert changes[f"expectations.{expectation}.revision"]["change"] == "CHANGED"

    revoked = mutate(url, "sponsor", f"""mutation($b: ID!) {{ revokeBaseline(input: {{
        baselineId: $b, reason: "The target was raised"}}) {{ {CHANGED} }} }}""",
        "BaselineChanged", b=baseline)  # fmt: skip
    assert revoked["baseline"]["status"] == "REVOKED"

    listed = post(url, fresh("cfo"), """query($c: ID!) { baselines(contractId: $c) { id title
        status complete contentHash revocationReason unsignedRoles content
        signatures { signer printedName role meaning signedAt contentHash } } }""",
        c=contract)["baselines"]  # fmt: skip
    assert [b["id"] for b in listed] == [baseline, later]
    assert listed[0]["status"] == "REVOKED" and listed[0]["complete"] is True
    assert listed[0]["revocationReason"] == "The target was raised"
    assert {(s["printedName"], s["role"], s["meaning"]) for s in listed[0]["signatures"]} == {
        ("Sam Sponsor", "CLIENT_SPONSOR", "APPROVED"),
        ("Ann Manager", "PROVIDER_ACCOUNT_MANAGER", "RESPONSIBLE"),
    }
    assert {s["contentHash"] for s in listed[0]["signatures"]} == {listed[0]["contentHash"]}
    assert listed[0]["content"]["ranking"]["ranking"] == [expectation]
    assert listed[1]["unsignedRoles"] == ["CLIENT_SPONSOR", "PROVIDER_ACCOUNT_MANAGER"]


def test_someone_on_no_contract_sees_no_baseline(url: str, agreed: tuple[str, str]) -> None:
    contract, _ = agreed
    baseline = propose(url, contract, "Seen by its people only")["created"]
    shown = post(url, fresh("stranger"), """query($b: ID!) { baseline(id: $b) { id }
        compareBaselines(a: $b, b: $b) { identical } }""", b=baseline)  # fmt: skip
    assert shown == {"baseline": None, "compareBaselines": None}
