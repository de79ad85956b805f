"""Many people changing one contract or one vote at the same moment, against the real `accord
dev`, through GraphQL: a command whose save lost to another storing the same version is run
again on what that one stored, so nobody is told CONFLICT for a change that did not touch
theirs. (Before, the process answered CONFLICT to about a third of twelve at a time.)"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.accord_process import accord_dev, ask

AT_ONCE = 12
REFUSAL = "... on Refusal { code message }"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with accord_dev(tmp_path_factory.mktemp("same-moment")) as (url, _):
        yield url


def answer(url: str, person: str, mutation: str, **variables: Any) -> Any:
    body = ask(url, person, mutation, **variables)
    assert "errors" not in body, body
    [payload] = body["data"].values()
    return payload


def join(url: str, by: str, contract: str, person: str, role: str) -> Any:
    return answer(url, by, f"""mutation($c: ID!, $p: String!, $r: Role!) {{ joinContract(input: {{
        contractId: $c, personId: $p, name: $p, role: $r}}) {{ __typename {REFUSAL}
        ... on ContractChanged {{ consistent }} }} }}""", c=contract, p=person, r=role)  # fmt: skip


def open_contract(url: str) -> str:
    opened = answer(url, "am", """mutation { openContract(input: {clientOrganisation: "Northwind",
        title: "Rollout", providerOrganisation: "Contoso", startsOn: "2027-01-01", name: "Ann",
        role: PROVIDER_ACCOUNT_MANAGER}) { ... on ContractChanged { contract { id } } } }""")  # fmt: skip
    contract: str = opened["contract"]["id"]
    assert join(url, "am", contract, "eve", "CLIENT_SPONSOR")["consistent"] is True
    return contract


def at_once(work: Any, items: list[str]) -> list[Any]:
    with ThreadPoolExecutor(AT_ONCE) as pool:
        return list(pool.map(work, items))


def test_people_appointed_at_the_same_moment_all_join(url: str) -> None:
    contract = open_contract(url)
    newcomers = [f"dm{n}" for n in range(2 * AT_ONCE)]
    answers = at_once(lambda p: join(url, "eve", contract, p, "CLIENT_DECISION_MAKER"), newcomers)
    assert [a["__typename"] for a in answers] == ["ContractChanged"] * len(newcomers), answers
    assert all(a["consistent"] for a in answers)
    shown = answer(url, "am", "query($c: ID!) { contract(id: $c) { participants { personId } } }",
                   c=contract)  # fmt: skip
    assert set(newcomers) <= {p["personId"] for p in shown["participants"]}


def test_decision_makers_voting_at_the_same_moment_all_have_their_vote_counted(url: str) -> None:
    contract = open_contract(url)
    voters = [f"voter{n}" for n in range(AT_ONCE)]
    for voter in voters:
        assert join(url, "eve", contract, voter, "CLIENT_DECISION_MAKER")["consistent"] is True
    expectations = [
        answer(url, voters[0], f"""mutation($c: ID!, $t: String!) {{ proposeExpectation(input: {{
            contractId: $c, text: $t, businessArea: "stores"}}) {{ __typename {REFUSAL}
            ... on ExpectationChanged {{ expectation {{ id }} }} }} }}""", c=contract, t=text,
        )["expectation"]["id"]
        for text in ("Tills work", "Spares on site")
    ]  # fmt: skip
    for expectation in expectations:  # measurable, so they can be prioritized
        refined = answer(url, "am", f"""mutation($e: ID!) {{ refineExpectation(input: {{
            expectationId: $e, text: "Tills are available", reason: "made measurable", terms: {{
            metric: "availability", comparison: AT_LEAST, target: "99.5", unit: "percent",
            measurementMethod: "monitoring", measuredBy: "provider", recurrence: MONTHLY}}}})
            {{ __typename {REFUSAL} }} }}""", e=expectation)  # fmt: skip
        assert refined["__typename"] == "ExpectationChanged", refined
    session = answer(url, "am", f"""mutation($c: ID!) {{ openPrioritization(input: {{
        contractId: $c, method: DOTS, dots: 3}}) {{ __typename {REFUSAL}
        ... on PrioritizationChanged {{ prioritization {{ id }} }} }} }}""", c=contract)  # fmt: skip
    assert session["__typename"] == "PrioritizationChanged", session
    session_id = session["prioritization"]["id"]
    dots = [
        {"expectationId": expectations[0], "dots": 2},
        {"expectationId": expectations[1], "dots": 1},
    ]
    votes = at_once(lambda voter: answer(url, voter, f"""mutation($s: ID!, $d: [DotsForInput!]) {{
        castVote(input: {{prioritizationId: $s, dots: $d}}) {{ __typename {REFUSAL}
        ... on PrioritizationChanged {{ consistent }} }} }}""", s=session_id, d=dots), voters)  # fmt: skip
    assert [v["__typename"] for v in votes] == ["PrioritizationChanged"] * AT_ONCE, votes
    closed = answer(url, "am", f"""mutation($s: ID!) {{ closePrioritization(input: {{
        prioritizationId: $s}}) {{ __typename {REFUSAL} ... on PrioritizationChanged {{
        prioritization {{ ballots {{ voter }} }} }} }} }}""", s=session_id)  # fmt: skip
    assert sorted(b["voter"] for b in closed["prioritization"]["ballots"]) == sorted(voters)


def test_a_version_named_by_many_at_once_is_taken_by_one_and_refused_to_the_rest(url: str) -> None:
    """Run again after losing, a command that named a version checks it again: one refinement
    based on version 1 is stored, every other one is told the expectation moved past it."""
    contract = open_contract(url)
    assert join(url, "eve", contract, "dm", "CLIENT_DECISION_MAKER")["consistent"] is True
    proposed = answer(url, "dm", f"""mutation($c: ID!) {{ proposeExpectation(input: {{
        contractId: $c, text: "Tills work", businessArea: "stores"}}) {{ __typename {REFUSAL}
        ... on ExpectationChanged {{ expectation {{ id }} }} }} }}""", c=contract)  # fmt: skip
    expectation = proposed["expectation"]["id"]
    refine = f"""mutation($e: ID!, $t: String!) {{ refineExpectation(input: {{expectationId: $e,
        text: $t, reason: "sharper", expectedVersion: 1, terms: {{metric: "availability",
        comparison: AT_LEAST, target: "99.5", unit: "percent", measurementMethod: "monitoring",
        measuredBy: "provider", recurrence: MONTHLY}}}}) {{ __typename {REFUSAL}
        ... on ExpectationChanged {{ version }} }} }}"""  # fmt: skip
    answers = at_once(
        lambda text: answer(url, "am", refine, e=expectation, t=text),
        [f"Tills work, take {n}" for n in range(AT_ONCE)],
    )
    kinds = sorted(a["__typename"] for a in answers)
    assert kinds == ["Conflict"] * (AT_ONCE - 1) + ["ExpectationChanged"], answers
    assert all("is at version 2, not 1" in a["message"] for a in answers if "message" in a)
