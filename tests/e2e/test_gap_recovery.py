"""Closing a gap, the last step of the method, through GraphQL over HTTP only, on `accord dev`:
a measurement below target shows in the gap analysis; the provider acknowledges the gap,
agrees a recovery plan of dated steps and a revised target, each step is completed, and the
gap analysis shows the recovery."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_embedded_default import accord_dev
from tests.e2e.test_graphql_api import ask


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with accord_dev(tmp_path_factory.mktemp("gap")) as (url, _):
        yield url


def mutate(url: str, person: str, mutation: str, payload: str, **variables: Any) -> Any:
    """A mutation's success payload; anything else fails the test with the answer."""
    body = ask(url, person, mutation, **variables)
    assert "errors" not in body, body
    [answer] = body["data"].values()
    assert answer["__typename"] == payload, answer
    return answer


CHANGED = "__typename ... on Refusal { code message }"


def a_contract_with_a_measurable_expectation(url: str) -> tuple[str, str]:
    contract = mutate(
        url, "am",
        f"""mutation {{ openContract(input: {{clientOrganisation: "Northwind", title: "Tills",
        providerOrganisation: "Contoso", startsOn: "2027-01-01", name: "Ann",
        role: PROVIDER_ACCOUNT_MANAGER}}) {{ {CHANGED} ... on ContractChanged {{ created }} }} }}""",
        "ContractChanged",
    )["created"]  # fmt: skip
    join = f"""mutation($c: ID!, $p: String!, $r: Role!) {{ joinContract(input: {{contractId: $c,
        personId: $p, name: $p, role: $r}}) {{ {CHANGED} }} }}"""
    mutate(url, "am", join, "ContractChanged", c=contract, p="lead", r="PROVIDER_DELIVERY_LEAD")
    mutate(url, "am", join, "ContractChanged", c=contract, p="ceo", r="CLIENT_SPONSOR")
    mutate(url, "ceo", join, "ContractChanged", c=contract, p="cso", r="CLIENT_DECISION_MAKER")
    expectation = mutate(
        url, "cso",
        f"""mutation($c: ID!) {{ proposeExpectation(input: {{contractId: $c,
        text: "Tills work all trading hours", businessArea: "stores"}}) {{
        {CHANGED} ... on ExpectationChanged {{ created }} }} }}""",
        "ExpectationChanged", c=contract,
    )["created"]  # fmt: skip
    mutate(
        url, "am",
        f"""mutation($e: ID!) {{ refineExpectation(input: {{expectationId: $e,
        text: "Tills are available in trading hours", reason: "made measurable",
        terms: {{metric: "till availability", comparison: AT_LEAST, target: "99.8",
        unit: "percent", recurrence: MONTHLY, measurementMethod: "store monitoring",
        measuredBy: "provider"}}}}) {{ {CHANGED} }} }}""",
        "ExpectationChanged", e=expectation,
    )  # fmt: skip
    return contract, expectation


MEASURE = f"""mutation($e: ID!, $v: Decimal!, $from: Date!, $to: Date!) {{ recordMeasurement(
    input: {{expectationId: $e, periodStart: $from, periodEnd: $to, value: $v,
    source: "service report"}}) {{ {CHANGED} ... on ExpectationChanged {{ created }} }} }}"""
GAPS = """query($c: ID!) { gapAnalysis(contractId: $c) { expectationId met target value shortfall
    gapAcknowledged recoveryStepsTotal recoveryStepsCompleted } }"""


def gap_of(url: str, contract: str, expectation: str) -> dict[str, Any]:
    body = ask(url, "ceo", GAPS, c=contract)
    assert "errors" not in body, body
    [entry] = [g for g in body["data"]["gapAnalysis"] if g["expectationId"] == expectation]
    return dict(entry)


def test_a_missed_target_is_acknowledged_planned_and_recovered(url: str) -> None:
    contract, expectation = a_contract_with_a_measurable_expectation(url)
    january = ("2027-01-01", "2027-01-31")
    measurement = mutate(
        url, "lead", MEASURE, "ExpectationChanged", e=expectation, v="99.1",
        **{"from": january[0], "to": january[1]},
    )["created"]  # fmt: skip
    missed = gap_of(url, contract, expectation)
    assert (missed["met"], missed["target"], missed["value"]) == (False, "99.8", "99.1")
    assert not missed["gapAcknowledged"] and missed["recoveryStepsTotal"] == 0

    gap = mutate(
        url, "am",
        f"""mutation($e: ID!, $m: ID!) {{ acknowledgeGap(input: {{expectationId: $e,
        measurementId: $m, cause: "no spare tills in two stores"}}) {{
        {CHANGED} ... on ExpectationChanged {{ created }} }} }}""",
        "ExpectationChanged", e=expectation, m=measurement,
    )["created"]  # fmt: skip
    assert gap_of(url, contract, expectation)["gapAcknowledged"] is True

    steps = [
        {"action": "Put a spare till in every store", "owner": "lead", "dueOn": "2027-02-15"},
        {"action": "Check each spare before trading", "owner": "cso", "dueOn": "2027-02-28"},
    ]
    planned = mutate(
        url, "am",
        f"""mutation($e: ID!, $g: ID!, $steps: [RecoveryStepInput!]!) {{ agreeRecoveryPlan(
        input: {{expectationId: $e, gapId: $g, steps: $steps, agreedWith: "cso",
        revisedTarget: "99.5"}}) {{ {CHANGED}
        ... on ExpectationChanged {{ consistent expectation {{ terms {{ target }} }} }} }} }}""",
        "ExpectationChanged", e=expectation, g=gap, steps=steps,
    )  # fmt: skip
    assert planned["consistent"] and planned["expectation"]["terms"]["target"] == "99.5"
    planned_gap = gap_of(url, contract, expectation)
    assert (planned_gap["recoveryStepsTotal"], planned_gap["recoveryStepsCompleted"]) == (2, 0)

    complete = f"""mutation($e: ID!, $g: ID!, $n: Int!) {{ completeRecoveryStep(input: {{
        expectationId: $e, gapId: $g, step: $n, note: "done"}}) {{ {CHANGED} }} }}"""
    for number, step in enumerate(steps, start=1):  # each step by its owner
        mutate(url, step["owner"], complete, "ExpectationChanged", e=expectation, g=gap, n=number)
        assert gap_of(url, contract, expectation)["recoveryStepsCompleted"] == number
    again = ask(url, "lead", complete, e=expectation, g=gap, n=1)["data"]["completeRecoveryStep"]
    assert again["__typename"] != "ExpectationChanged"  # a step is completed once

    february = ("2027-02-01", "2027-02-28")
    mutate(
        url, "lead", MEASURE, "ExpectationChanged", e=expectation, v="99.6",
        **{"from": february[0], "to": february[1]},
    )  # fmt: skip
    recovered = gap_of(url, contract, expectation)
    assert (recovered["met"], recovered["target"], recovered["value"]) == (True, "99.5", "99.6")


def test_a_plan_with_a_date_that_is_not_one_is_refused_before_it_is_sent(url: str) -> None:
    _, expectation = a_contract_with_a_measurable_expectation(url)
    body = ask(
        url, "am",
        """mutation($e: ID!, $steps: [RecoveryStepInput!]!) { agreeRecoveryPlan(input: {
        expectationId: $e, gapId: $e, steps: $steps, agreedWith: "cso"}) { __typename } }""",
        e=expectation, steps=[{"action": "a", "owner": "lead", "dueOn": "2027-02-30"}],
    )  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body
