"""A service's own views linger for bigger batches only while nobody reads them: on a real
`accord dev` whose views would wait a minute for more, a request that reads one still sees
what the view was given, at once. Ranking's ballot knows the decision maker who just joined
and the expectation just proposed; elicitation's agreed set and suspect links have caught up
when a baseline is proposed and an expectation refined."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.accord_process import accord_env, accord_running, ask

# Far longer than any wait below: a view that lingered its whole linger would fail the test.
LINGER_MS = "60000"
REFUSAL = "... on Refusal { code message }"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = accord_env(
        tmp_path_factory.mktemp("lingering"),
        ACCORD_PROJECTION_LINGER_MS=LINGER_MS,
        ACCORD_SCHEDULER_VIEW_LINGER_MS=LINGER_MS,
    )
    with accord_running(None, env) as running:
        yield running.url


def mutate(url: str, person: str, query: str, **variables: Any) -> dict[str, Any]:
    body = ask(url, person, query, **variables)
    assert "errors" not in body, body
    [answer] = body["data"].values()
    return dict(answer)


def ballot(url: str, contract: str) -> httpx.Response:
    base = url.removesuffix("/graphql")
    token = mint_token(Settings(), "am")
    return httpx.get(
        f"{base}/ranking/contracts/{contract}/ballot",
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )


def test_a_request_reads_what_a_lingering_view_was_given(url: str) -> None:
    opened = mutate(url, "am", f"""mutation {{ openContract(input: {{clientOrganisation: "N",
        providerOrganisation: "C", title: "Stores IT", startsOn: "2027-01-01", name: "Ann",
        role: PROVIDER_ACCOUNT_MANAGER}}) {{ __typename {REFUSAL}
        ... on ContractChanged {{ created }} }} }}""")  # fmt: skip
    contract = opened["created"]
    join = f"""mutation($c: ID!, $p: String!, $r: Role!) {{ joinContract(input: {{
        contractId: $c, personId: $p, name: $p, role: $r}}) {{ __typename {REFUSAL} }} }}"""
    for person, role in (("sponsor", "CLIENT_SPONSOR"), ("cfo", "CLIENT_DECISION_MAKER")):
        joined = mutate(url, "am" if person == "sponsor" else "sponsor", join, c=contract,
                        p=person, r=role)  # fmt: skip
        assert joined["__typename"] == "ContractChanged", joined
    proposed = mutate(url, "cfo", f"""mutation($c: ID!) {{ proposeExpectation(input: {{
        contractId: $c, text: "Tills work", businessArea: "stores"}}) {{ __typename {REFUSAL}
        ... on ExpectationChanged {{ created }} }} }}""", c=contract)  # fmt: skip
    expectation = proposed["created"]

    # Elicitation waits for its own views to apply what it stored before a refinement and a
    # baseline: they are hurried, not waited on for a minute (the wait gives up after ten
    # seconds with a CATCHING_UP refusal).
    started = time.monotonic()
    refined = mutate(url, "am", f"""mutation($e: ID!) {{ refineExpectation(input: {{
        expectationId: $e, text: "Tills are available in business hours", reason: "agreed",
        terms: {{metric: "till availability", comparison: AT_LEAST, target: "99.5",
        unit: "percent", recurrence: MONTHLY, measurementMethod: "monitoring",
        measuredBy: "provider"}}}}) {{ __typename {REFUSAL} }} }}""", e=expectation)  # fmt: skip
    assert refined["__typename"] == "ExpectationChanged", refined
    baseline = mutate(url, "am", f"""mutation($c: ID!) {{ proposeBaseline(input: {{contractId: $c,
        title: "Scope"}}) {{ __typename {REFUSAL} }} }}""", c=contract)  # fmt: skip
    assert baseline["__typename"] == "BaselineChanged", baseline
    assert time.monotonic() - started < 10

    # Ranking's view hears of the contract from elicitation's events: each read hurries it.
    deadline = time.monotonic() + 15
    shown = ballot(url, contract)
    while not shown.is_success or not shown.json()["expectations"]:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
        shown = ballot(url, contract)
    assert shown.status_code == 200, shown.text
    assert (shown.json()["expectations"], shown.json()["voters"]) == ([expectation], ["cfo"])
