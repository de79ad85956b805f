"""Contract health and the RAID view through GraphQL over HTTP on the real `accord dev`: a
ranked contract with three of its four expectations short scores what docs/graphql.md's formula
says, part by part; agreeing a recovery plan for one gap gives back that gap's points while the
contract as of before still shows them; the trend's points are the contract as of each instant;
the RAID view lists the risk, the assumption the provider recorded (the client may not), the
three gaps and the obligation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.test_embedded_default import accord_dev
from tests.e2e.test_gap_analysis_readable import a_ranked_contract_measured_in_january
from tests.e2e.test_gap_recovery import CHANGED, mutate
from tests.e2e.test_graphql_api import ask

HEALTH = "health { score attainment asOf parts { part count pointsLost pointsEach items } }"
NOW_AND_THEN = f"""query($c: ID!, $at: DateTime!) {{
    now: contract(id: $c) {{ {HEALTH} }} then: contract(id: $c, asOf: $at) {{ {HEALTH} }} }}"""
TREND = """query($c: ID!, $n: Int!, $every: Duration!) {
    healthTrend(contractId: $c, periods: $n, every: $every) { score asOf } }"""
AT = """query($c: ID!, $at: DateTime!) { contract(id: $c, asOf: $at) { health { score } } }"""
RAID = """query($c: ID!) { contract(id: $c) { raid {
    risks { id title acknowledged }
    assumptions { id text why recordedBy recordedAt }
    issues { kind itemId title gap { met gapAcknowledged recoveryStepsTotal } }
    dependencies { id what status } } } }"""
ASSUME = f"""mutation($c: ID!, $t: String!, $w: String!) {{ recordAssumption(input: {{
    contractId: $c, text: $t, why: $w}}) {{ {CHANGED} ... on ContractChanged {{ created }} }} }}"""
GAP_IDS = """query($c: ID!) { contract(id: $c) { gapAnalysis { expectationId measurementId } } }"""
TRAIL = """query($c: ID!) { auditTrail(contractId: $c, first: 100) {
    edges { node { eventType occurredAt } } } }"""


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with accord_dev(tmp_path_factory.mktemp("health")) as (url, _):
        yield url


def answered(url: str, person: str, query: str, **variables: Any) -> dict[str, Any]:
    body = ask(url, person, query, **variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def parts(health: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {p["part"]: (p["count"], p["pointsLost"]) for p in health["parts"]}


def recorded_at(url: str, contract: str, event: str) -> datetime:
    edges = answered(url, "ceo", TRAIL, c=contract)["auditTrail"]["edges"]
    [at] = [e["node"]["occurredAt"] for e in edges if f".{event}." in e["node"]["eventType"]]
    return datetime.fromisoformat(at)


def plan_for(url: str, contract: str, expectation: str) -> None:
    """The provider acknowledges the expectation's gap and agrees a plan with the client."""
    [entry] = [
        g
        for g in answered(url, "am", GAP_IDS, c=contract)["contract"]["gapAnalysis"]
        if g["expectationId"] == expectation
    ]
    gap = mutate(
        url, "am",
        f"""mutation($e: ID!, $m: ID!) {{ acknowledgeGap(input: {{expectationId: $e,
        measurementId: $m, cause: "staff shortage"}}) {{ {CHANGED}
        ... on ExpectationChanged {{ created }} }} }}""",
        "ExpectationChanged", e=expectation, m=entry["measurementId"],
    )["created"]  # fmt: skip
    mutate(
        url, "am",
        f"""mutation($e: ID!, $g: ID!, $steps: [RecoveryStepInput!]!) {{ agreeRecoveryPlan(
        input: {{expectationId: $e, gapId: $g, steps: $steps, agreedWith: "cso"}}) {{
        {CHANGED} }} }}""",
        "ExpectationChanged", e=expectation, g=gap,
        steps=[{"action": "Hire two engineers", "owner": "lead", "dueOn": "2099-02-15"}],
    )  # fmt: skip


def test_health_moves_when_a_gap_gets_a_plan_and_the_past_keeps_its_score(url: str) -> None:
    contract, expectations = a_ranked_contract_measured_in_january(url)
    # Weights 4, 3, 2, 1 in CASES' order; only the last ("met", weight 1) met its terms.
    before = answered(url, "ceo", NOW_AND_THEN, c=contract, at=datetime.now(UTC).isoformat())
    health = before["now"]["health"]
    assert health["attainment"] == "0.1000"
    assert parts(health) == {
        "ATTAINMENT": (3, 36),  # 40 x 9/10
        "GAPS_WITHOUT_PLAN": (3, 30),
        "OVERDUE_OBLIGATIONS": (0, 0),
        "UNACKNOWLEDGED_RISKS": (0, 0),
        "MISSED_DEADLINES": (0, 0),
        "OPEN_SUSPECT_LINKS": (0, 0),
    }
    assert health["score"] == 34

    plan_for(url, contract, expectations["range"])
    planned = recorded_at(url, contract, "RecoveryPlanAgreed")
    at = (planned - timedelta(microseconds=1)).isoformat()
    after = answered(url, "ceo", NOW_AND_THEN, c=contract, at=at)
    assert after["now"]["health"]["score"] == 44
    assert parts(after["now"]["health"])["GAPS_WITHOUT_PLAN"] == (2, 20)
    [unplanned] = [p for p in after["now"]["health"]["parts"] if p["part"] == "GAPS_WITHOUT_PLAN"]
    assert expectations["range"] not in unplanned["items"]
    # as of just before the plan, the contract's health is what it was then
    assert after["then"]["health"]["score"] == 34
    assert parts(after["then"]["health"]) == parts(health)


def test_the_trend_is_the_contract_as_of_each_period_end(url: str) -> None:
    contract, _ = a_ranked_contract_measured_in_january(url)
    opened = recorded_at(url, contract, "ContractOpened")
    # Two periods reaching back to just after the contract was opened, then one over a day
    # that reaches before it (left out).
    every = datetime.now(opened.tzinfo) - opened - timedelta(milliseconds=1)
    trend = answered(url, "ceo", TREND, c=contract, n=2, every=f"PT{every.total_seconds():.6f}S")[
        "healthTrend"
    ]
    assert len(trend) == 2
    for point in trend:
        then = answered(url, "ceo", AT, c=contract, at=point["asOf"])
        assert then["contract"]["health"]["score"] == point["score"]
    now = answered(url, "ceo", NOW_AND_THEN, c=contract, at=trend[-1]["asOf"])
    assert trend[-1]["score"] == now["now"]["health"]["score"] == 34
    assert trend[0]["score"] == 100  # opened, nothing measured yet
    a_day = answered(url, "ceo", TREND, c=contract, n=2, every="P1D")["healthTrend"]
    assert [p["score"] for p in a_day] == [34]
    refused = ask(url, "ceo", TREND, c=contract, n=25, every="P1D")
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", refused
    outsider = ask(url, "stranger", TREND, c=contract, n=1, every="P1D")
    assert outsider["errors"][0]["extensions"]["code"] == "FORBIDDEN", outsider


def test_the_raid_view_lists_risks_assumptions_issues_and_dependencies(url: str) -> None:
    contract, expectations = a_ranked_contract_measured_in_january(url)
    risk = mutate(
        url, "am",
        f"""mutation($c: ID!) {{ discloseRisk(input: {{contractId: $c, kind: PROBLEM,
        title: "Firmware", description: "Support ends", likelihood: 3, impact: 4}}) {{
        {CHANGED} ... on RiskChanged {{ risk {{ id }} }} }} }}""",
        "RiskChanged", c=contract,
    )["risk"]["id"]  # fmt: skip
    obligation = mutate(
        url, "am",
        f"""mutation($c: ID!) {{ proposeObligation(input: {{contractId: $c,
        what: "Store network access", neededFrom: "cso", dueOn: "2099-01-15"}}) {{ {CHANGED}
        ... on ObligationChanged {{ obligation {{ id }} }} }} }}""",
        "ObligationChanged", c=contract,
    )["obligation"]["id"]  # fmt: skip
    assumption = mutate(
        url, "lead", ASSUME, "ContractChanged", c=contract,
        t="Stores keep their tills until 2028", w="The availability target was costed on them",
    )["created"]  # fmt: skip
    refused = ask(url, "ceo", ASSUME, c=contract, t="x", w="y")["data"]["recordAssumption"]
    assert refused["code"] == "NOT_PERMITTED", refused

    raid = answered(url, "cso", RAID, c=contract)["contract"]["raid"]
    assert [(r["id"], r["acknowledged"]) for r in raid["risks"]] == [(risk, False)]
    [recorded] = raid["assumptions"]
    assert (recorded["id"], recorded["recordedBy"]) == (assumption, "lead")
    assert recorded["why"] == "The availability target was costed on them"
    assert [(i["kind"], i["itemId"]) for i in raid["issues"]] == [
        ("GAP", expectations[name]) for name in ("range", "zero", "volume")
    ]
    assert all(i["gap"]["met"] is False for i in raid["issues"])
    assert [(d["id"], d["status"]) for d in raid["dependencies"]] == [(obligation, "PROPOSED")]
    # the unacknowledged risk costs its points beside the rest
    health = answered(url, "cso", NOW_AND_THEN, c=contract, at=datetime.now(UTC).isoformat())
    assert parts(health["now"]["health"])["UNACKNOWLEDGED_RISKS"] == (1, 5)
    assert health["now"]["health"]["score"] == 29
