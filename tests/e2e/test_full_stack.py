"""Every service as its own process on real Kafka and PostgreSQL, driven through GraphQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.auth import mint_token
from shared.settings import Settings
from tests.integration.http_server import free_port

PROCESSES = ("elicitation", "ranking", "notifications", "projector", "gateway")


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    """Where each process of the stack listens."""
    return {name: free_port() for name in PROCESSES}


@pytest.fixture(scope="module")
def stack(
    database_url: str,
    kafka_bootstrap: str,
    tmp_path_factory: pytest.TempPathFactory,
    ports: dict[str, int],
) -> Iterator[str]:
    """`accord serve <process>` for each process; answers the gateway's GraphQL URL."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ACCORD_KAFKA_BOOTSTRAP": kafka_bootstrap,
        # The projector may start behind other tests' events on a shared broker.
        "ACCORD_READ_YOUR_WRITES_SECONDS": "15",
        **{
            f"ACCORD_{s.upper()}_URL": f"http://127.0.0.1:{ports[s]}"
            for s in ("elicitation", "ranking", "notifications")
        },
    }
    logs = tmp_path_factory.mktemp("stack")
    running = []
    for name in PROCESSES:
        log = (logs / f"{name}.log").open("w")
        running.append(subprocess.Popen(
            [sys.executable, "-m", "accord", "serve", name, "--port", str(ports[name])],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        ))  # fmt: skip
    try:
        for name in PROCESSES:
            _wait_ready(f"http://127.0.0.1:{ports[name]}/readyz", logs / f"{name}.log")
        yield f"http://127.0.0.1:{ports['gateway']}/graphql"
    finally:
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()  # never leave a process behind to disturb later tests
                process.wait()
                raise


def _wait_ready(url: str, log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} never became ready:\n{log.read_text()[-3000:]}")


def ask(url: str, person: str, query: str, **variables: Any) -> dict[str, Any]:
    token = mint_token(Settings(), person)
    response = httpx.post(
        url,
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


def changed(answer: dict[str, Any], field: str) -> dict[str, Any]:
    payload: dict[str, Any] = answer[field]
    assert payload.get("__typename", "").endswith("Changed"), payload
    return payload


TERMS = '{metric: "availability", comparison: AT_LEAST, target: "99.5", unit: "percent", recurrence: MONTHLY, measurementMethod: "monitoring", measuredBy: "provider"}'


def test_a_contract_is_prioritized_through_graphql_across_every_process(stack: str) -> None:
    opened = changed(
        ask(
            stack,
            "am",
            """mutation { openContract(input: {clientOrganisation: "Northwind",
        providerOrganisation: "Contoso", title: "Full stack", startsOn: "2027-01-01", name: "Ann",
        role: PROVIDER_ACCOUNT_MANAGER}) { __typename ... on ContractChanged { consistent contract { id } } } }""",
        ),
        "openContract",
    )
    assert opened["consistent"] is True
    contract = opened["contract"]["id"]
    for person, appointer in (("cfo", "am"), ("cio", "cfo")):  # each side appoints its own
        changed(
            ask(
                stack,
                appointer,
                """mutation($c: ID!, $p: String!) { joinContract(input: {contractId: $c, personId: $p,
            name: $p, role: CLIENT_DECISION_MAKER}) { __typename } }""",
                c=contract,
                p=person,
            ),
            "joinContract",
        )
    expectations = []
    for person, text in (("cfo", "Invoices are right"), ("cio", "Systems stay up")):
        proposed = changed(
            ask(
                stack,
                person,
                """mutation($c: ID!, $t: String!) { proposeExpectation(input: {contractId: $c,
            text: $t, businessArea: "ops"}) { __typename ... on ExpectationChanged { expectation { id version } } } }""",
                c=contract,
                t=text,
            ),
            "proposeExpectation",
        )
        assert proposed["expectation"]["version"] == 1  # the payload already shows its own change
        expectation = proposed["expectation"]["id"]
        changed(
            ask(
                stack,
                "am",
                'mutation($e: ID!) { refineExpectation(input: {expectationId: $e, text: "'
                + text
                + '", reason: "measurable", terms: '
                + TERMS
                + "}) { __typename } }",
                e=expectation,
            ),
            "refineExpectation",
        )
        expectations.append(expectation)

    # Ranking learns the measurable expectations from Kafka; a vote opened at once, as the
    # account manager would, has both (ranking's view first applies what elicitation published).
    answer = ask(
        stack,
        "am",
        """mutation($c: ID!) { openPrioritization(input: {contractId: $c, method: BORDA}) {
        __typename ... on PrioritizationChanged { prioritization { id expectations } } ... on Refusal { code } } }""",
        c=contract,
    )["openPrioritization"]
    assert answer["__typename"] == "PrioritizationChanged", answer
    assert sorted(answer["prioritization"]["expectations"]) == sorted(expectations)
    session = answer["prioritization"]["id"]
    for voter, order in (("cfo", expectations), ("cio", expectations[::-1])):
        changed(
            ask(
                stack,
                voter,
                "mutation($s: ID!, $r: [ID!]) { castVote(input: {prioritizationId: $s, ranking: $r}) { __typename } }",
                s=session,
                r=order,
            ),
            "castVote",
        )
    closed = changed(
        ask(
            stack,
            "am",
            """mutation($s: ID!) { closePrioritization(input: {prioritizationId: $s}) {
        __typename ... on PrioritizationChanged { consistent prioritization { status ranking { entries { expectationId } voted concordance } } } } }""",
            s=session,
        ),
        "closePrioritization",
    )
    ranking = closed["prioritization"]["ranking"]
    assert closed["consistent"] is True and ranking["voted"] == 2
    assert sorted(e["expectationId"] for e in ranking["entries"]) == sorted(expectations)
    read = ask(
        stack,
        "cfo",
        "query($c: ID!) { contract(id: $c) { expectations { id corporatePriority } } }",
        c=contract,
    )
    assert {e["corporatePriority"] for e in read["contract"]["expectations"]} == {1, 2}


def test_the_demo_loads_through_the_gateway_of_the_five_processes(
    stack: str, tmp_path: Path
) -> None:
    """`accord demo --url` takes the gateway's address as it takes `accord dev`'s, and every
    step goes through across the processes: the vote it opens right after making the last
    expectation measurable puts all twelve to the vote (it stops if not: it did, once)."""
    done = subprocess.run(
        [sys.executable, "-m", "accord", "demo", "--url", stack.removesuffix("/graphql")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["expectations"] == 12 and len(summary["ranking"]) == 12, summary


def test_each_process_serves_the_metrics_of_its_own_parts(
    stack: str, ports: dict[str, int]
) -> None:
    """A Prometheus scraping each `accord serve` process sees its relay and projections."""
    served: dict[str, set[tuple[str, str]]] = {}
    for name in PROCESSES:
        response = httpx.get(f"http://127.0.0.1:{ports[name]}/metrics", timeout=10)
        assert response.status_code == 200, (name, response.text)
        served[name] = {
            (sample.name, next(iter(sample.labels.values())))
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }
    for service in ("elicitation", "ranking", "notifications"):
        assert ("accord_relay_published_events_total", service) in served[service]
        assert ("accord_relay_failing", service) in served[service]
        assert {label for _, label in served[service]} >= {service}
    assert ("accord_projection_behind_messages", "elicitation-agreed-set") in served["elicitation"]
    assert ("accord_notices", "dead_lettered") in served["notifications"]
    assert served["projector"] >= {
        ("accord_projection_behind_messages", "gateway-readmodel"),
        ("accord_projection_dead_letters", "gateway-readmodel"),
    }
    assert served["gateway"] == set()  # its read models are the projector's to report
