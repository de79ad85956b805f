"""A gap analysis a person can read, through GraphQL over HTTP on the real `accord dev`: a
range, an "at most" with a zero target, an "at least" of 40000 and one met, each with its
shortfall as docs/graphql.md ("Gap analysis") says, weighted by the corporate ranking; the
latest measurement's and gap's ids let a client acknowledge the gap and agree its plan."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_embedded_default import accord_dev
from tests.e2e.test_gap_recovery import CHANGED, MEASURE, mutate
from tests.e2e.test_graphql_api import ask

# Terms and the value measured for each expectation, in the order the client ranks them.
CASES = {
    "range": ({"comparison": "WITHIN_RANGE", "target": "15", "targetUpper": "30",
               "unit": "minutes"}, "45"),
    "zero": ({"comparison": "AT_MOST", "target": "0", "unit": "incidents"}, "3"),
    "volume": ({"comparison": "AT_LEAST", "target": "40000", "unit": "transactions"}, "30000"),
    "met": ({"comparison": "AT_LEAST", "target": "99.50", "unit": "percent"}, "99.6"),
}  # fmt: skip
GAPS = """query($c: ID!) { gapAnalysis(contractId: $c) { expectationId priority weight flagged
    met measurementId periodStart comparison target targetUpper value unit shortfall
    relativeShortfall weightedShortfall gapId gapAcknowledged } }"""


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with accord_dev(tmp_path_factory.mktemp("gaps")) as (url, _):
        yield url


def a_ranked_contract_measured_in_january(url: str) -> tuple[str, dict[str, str]]:
    """A contract whose client ranks the four expectations in CASES' order; each measured."""
    contract = mutate(
        url, "am",
        f"""mutation {{ openContract(input: {{clientOrganisation: "Northwind", title: "Stores",
        providerOrganisation: "Contoso", startsOn: "2027-01-01", name: "Ann",
        role: PROVIDER_ACCOUNT_MANAGER}}) {{ {CHANGED} ... on ContractChanged {{ created }} }} }}""",
        "ContractChanged",
    )["created"]  # fmt: skip
    join = f"""mutation($c: ID!, $p: String!, $r: Role!) {{ joinContract(input: {{contractId: $c,
        personId: $p, name: $p, role: $r}}) {{ {CHANGED} }} }}"""
    mutate(url, "am", join, "ContractChanged", c=contract, p="lead", r="PROVIDER_DELIVERY_LEAD")
    mutate(url, "am", join, "ContractChanged", c=contract, p="ceo", r="CLIENT_SPONSOR")
    mutate(url, "ceo", join, "ContractChanged", c=contract, p="cso", r="CLIENT_DECISION_MAKER")
    expectations = {}
    for name, (terms, value) in CASES.items():
        expectation = mutate(
            url, "cso",
            f"""mutation($c: ID!, $t: String!) {{ proposeExpectation(input: {{contractId: $c,
            text: $t, businessArea: "stores"}}) {{
            {CHANGED} ... on ExpectationChanged {{ created }} }} }}""",
            "ExpectationChanged", c=contract, t=name,
        )["created"]  # fmt: skip
        mutate(
            url, "am",
            f"""mutation($e: ID!, $terms: TermsInput!) {{ refineExpectation(input: {{
            expectationId: $e, text: "made measurable", reason: "agreed", terms: $terms}}) {{
            {CHANGED} }} }}""",
            "ExpectationChanged", e=expectation,
            terms={**terms, "metric": name, "recurrence": "MONTHLY",
                   "measurementMethod": "monthly report"},
        )  # fmt: skip
        mutate(
            url, "lead", MEASURE, "ExpectationChanged", e=expectation, v=value,
            **{"from": "2027-01-01", "to": "2027-01-31"},
        )  # fmt: skip
        expectations[name] = expectation
    session = mutate(
        url, "am",
        f"""mutation($c: ID!) {{ openPrioritization(input: {{contractId: $c, method: BORDA}}) {{
        {CHANGED} ... on PrioritizationChanged {{ prioritization {{ id }} }} }} }}""",
        "PrioritizationChanged", c=contract,
    )["prioritization"]["id"]  # fmt: skip
    mutate(
        url, "cso",
        f"""mutation($s: ID!, $r: [ID!]) {{ castVote(input: {{prioritizationId: $s,
        ranking: $r}}) {{ {CHANGED} }} }}""",
        "PrioritizationChanged", s=session, r=list(expectations.values()),
    )  # fmt: skip
    mutate(
        url, "am",
        f"""mutation($s: ID!) {{ closePrioritization(input: {{prioritizationId: $s}}) {{
        {CHANGED} }} }}""",
        "PrioritizationChanged", s=session,
    )  # fmt: skip
    return contract, expectations


def gap_analysis(url: str, contract: str) -> list[dict[str, Any]]:
    body = ask(url, "ceo", GAPS, c=contract)
    assert "errors" not in body, body
    entries: list[dict[str, Any]] = body["data"]["gapAnalysis"]
    return entries


def test_each_comparison_shows_its_terms_and_shortfall_as_written(url: str) -> None:
    contract, expectations = a_ranked_contract_measured_in_january(url)
    entries = gap_analysis(url, contract)
    for _ in range(50):  # the ranking reaches the read model a moment after it is published
        if all(entry["weight"] for entry in entries):
            break
        entries = gap_analysis(url, contract)
    shown = {entry["expectationId"]: entry for entry in entries}
    assert [entry["expectationId"] for entry in entries] == list(expectations.values())
    keys = ("priority", "weight", "comparison", "target", "targetUpper", "value", "unit", "met",
            "shortfall", "relativeShortfall", "weightedShortfall", "flagged")  # fmt: skip
    seen = {name: tuple(shown[e][key] for key in keys) for name, e in expectations.items()}
    # 15-30 minutes, 45 taken: the range, 15 over its upper bound, half of it again.
    assert seen["range"] == (
        1, 4, "WITHIN_RANGE", "15", "30", "45", "minutes", False, "15", "0.5", "2", True
    )  # fmt: skip
    # At most 0 incidents, 3 happened: one unit stands for the zero bound.
    assert seen["zero"] == (
        2, 3, "AT_MOST", "0", None, "3", "incidents", False, "3", "3", "9", True
    )  # fmt: skip
    # At least 40000, written as such; a quarter short; third, so not flagged.
    assert seen["volume"] == (
        3, 2, "AT_LEAST", "40000", None, "30000", "transactions", False, "10000", "0.25", "0.5",
        False,
    )  # fmt: skip
    assert seen["met"] == (
        4, 1, "AT_LEAST", "99.50", None, "99.6", "percent", True, "0", "0", "0", False
    )  # fmt: skip
    assert all(entry["periodStart"] == "2027-01-01" for entry in entries)


def test_the_latest_measurement_and_its_gap_are_named_for_the_next_command(url: str) -> None:
    contract, expectations = a_ranked_contract_measured_in_january(url)
    expectation = expectations["range"]
    [entry] = [e for e in gap_analysis(url, contract) if e["expectationId"] == expectation]
    assert entry["measurementId"] and entry["gapId"] is None and not entry["gapAcknowledged"]
    gap = mutate(
        url, "am",
        f"""mutation($e: ID!, $m: ID!) {{ acknowledgeGap(input: {{expectationId: $e,
        measurementId: $m, cause: "one engineer for three stores"}}) {{
        {CHANGED} ... on ExpectationChanged {{ created }} }} }}""",
        "ExpectationChanged", e=expectation, m=entry["measurementId"],
    )["created"]  # fmt: skip
    [entry] = [e for e in gap_analysis(url, contract) if e["expectationId"] == expectation]
    assert (entry["gapId"], entry["gapAcknowledged"]) == (gap, True)
    mutate(
        url, "am",
        f"""mutation($e: ID!, $g: ID!) {{ agreeRecoveryPlan(input: {{expectationId: $e,
        gapId: $g, agreedWith: "cso", steps: [{{action: "a second engineer", owner: "lead",
        dueOn: "2027-02-15"}}]}}) {{ {CHANGED} }} }}""",
        "ExpectationChanged", e=expectation, g=entry["gapId"],
    )  # fmt: skip
