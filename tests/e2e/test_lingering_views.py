"""A service's own views linger for bigger batches only while nobody reads them: on a real
`accord dev` whose views would wait a minute for more, a request that reads one still sees
what the view was given, at once. Ranking's ballot knows the decision maker who just joined
and the expectation just proposed; elicitation's agreed set and suspect links have caught up
when a baseline is proposed and an expectation refined. A view that is stuck holds no request
for longer than its wait: the caller is told it is catching up, not that the service could not
be reached."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.accord_process import RunningAccord, accord_env, accord_running, answer

# Far longer than any wait below: a view that lingered its whole linger would fail the test.
LINGER_MS = "60000"
# Longer than the gateway waited for a service before it took its wait from the settings.
VIEW_WAIT_SECONDS = 12
REFUSAL = "... on Refusal { code message }"


@pytest.fixture(scope="module")
def accord(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAccord]:
    env = accord_env(
        tmp_path_factory.mktemp("lingering"),
        ACCORD_PROJECTION_LINGER_MS=LINGER_MS,
        ACCORD_SCHEDULER_VIEW_LINGER_MS=LINGER_MS,
        ACCORD_VIEW_WAIT_SECONDS=str(VIEW_WAIT_SECONDS),
    )
    with accord_running(None, env) as running:
        yield running


@pytest.fixture
def url(accord: RunningAccord) -> str:
    return accord.url


def ballot(url: str, contract: str) -> httpx.Response:
    base = url.removesuffix("/graphql")
    token = mint_token(Settings(), "am")
    return httpx.get(
        f"{base}/ranking/contracts/{contract}/ballot",
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )


def proposed_on_new_contract(url: str) -> tuple[str, str]:
    """A contract with its sponsor and a decision maker, who proposed an expectation."""
    opened = answer(url, "am", f"""mutation {{ openContract(input: {{clientOrganisation: "N",
        providerOrganisation: "C", title: "Stores IT", startsOn: "2027-01-01", name: "Ann",
        role: PROVIDER_ACCOUNT_MANAGER}}) {{ __typename {REFUSAL}
        ... on ContractChanged {{ created }} }} }}""")  # fmt: skip
    contract = opened["created"]
    join = f"""mutation($c: ID!, $p: String!, $r: Role!) {{ joinContract(input: {{
        contractId: $c, personId: $p, name: $p, role: $r}}) {{ __typename {REFUSAL} }} }}"""
    for person, role in (("sponsor", "CLIENT_SPONSOR"), ("cfo", "CLIENT_DECISION_MAKER")):
        joined = answer(url, "am" if person == "sponsor" else "sponsor", join, c=contract,
                        p=person, r=role)  # fmt: skip
        assert joined["__typename"] == "ContractChanged", joined
    proposed = answer(url, "cfo", f"""mutation($c: ID!) {{ proposeExpectation(input: {{
        contractId: $c, text: "Tills work", businessArea: "stores"}}) {{ __typename {REFUSAL}
        ... on ExpectationChanged {{ created }} }} }}""", c=contract)  # fmt: skip
    return contract, proposed["created"]


def test_a_request_reads_what_a_lingering_view_was_given(url: str) -> None:
    contract, expectation = proposed_on_new_contract(url)

    # Elicitation waits for its own views to apply what it stored before a refinement and a
    # baseline: they are hurried, not waited on for a minute (the wait would give up after
    # VIEW_WAIT_SECONDS with a CATCHING_UP refusal).
    started = time.monotonic()
    refined = answer(url, "am", f"""mutation($e: ID!) {{ refineExpectation(input: {{
        expectationId: $e, text: "Tills are available in business hours", reason: "agreed",
        terms: {{metric: "till availability", comparison: AT_LEAST, target: "99.5",
        unit: "percent", recurrence: MONTHLY, measurementMethod: "monitoring",
        measuredBy: "provider"}}}}) {{ __typename {REFUSAL} }} }}""", e=expectation)  # fmt: skip
    assert refined["__typename"] == "ExpectationChanged", refined
    baseline = answer(url, "am", f"""mutation($c: ID!) {{ proposeBaseline(input: {{contractId: $c,
        title: "Scope"}}) {{ __typename {REFUSAL} }} }}""", c=contract)  # fmt: skip
    assert baseline["__typename"] == "BaselineChanged", baseline
    assert time.monotonic() - started < VIEW_WAIT_SECONDS

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


async def test_a_stuck_view_is_told_as_catching_up_not_as_a_service_out_of_reach(
    accord: RunningAccord,
) -> None:
    contract, _ = proposed_on_new_contract(accord.url)
    # Another session holds the agreed set's view from writing: its runner waits on the lock.
    holder = await asyncpg.connect(accord.database)
    try:
        async with holder.transaction():
            await holder.execute("LOCK TABLE elicitation.view_agreed_position IN EXCLUSIVE MODE")
            # stored, and answered from the gateway's read model, but not in the held view
            await asyncio.to_thread(proposed_on_new_contract, accord.url)
            started = time.monotonic()
            refused = await asyncio.to_thread(propose_baseline, accord.url, contract)
            waited = time.monotonic() - started
        assert refused["code"] == "AGREED_SET_CATCHING_UP", refused
        assert VIEW_WAIT_SECONDS <= waited < VIEW_WAIT_SECONDS + 5, waited
    finally:
        await holder.close()
    # Once the view may write again, the same request goes through.
    assert propose_baseline(accord.url, contract)["__typename"] == "BaselineChanged"


def propose_baseline(url: str, contract: str) -> dict[str, Any]:
    return answer(url, "am", f"""mutation($c: ID!) {{ proposeBaseline(input: {{contractId: $c,
        title: "Scope"}}) {{ __typename {REFUSAL} }} }}""", c=contract)  # fmt: skip
