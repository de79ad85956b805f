"""Time travel through GraphQL over HTTP on the real `accord dev`: an auditor asks for a contract
as it stood before its ranking was published and sees no ranking, no corporate priority and no
weights, while the same operation's present shows them; as of now it is the present, field for
field; before it was opened there was none."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.e2e.test_embedded_default import accord_dev
from tests.e2e.test_gap_analysis_readable import CASES, a_ranked_contract_measured_in_january
from tests.e2e.test_graphql_api import ask

CONTRACT = """{ id title version participants { personId role active }
    expectations { id text status version corporatePriority terms { target unit }
        measurements { id value met } gaps { id } }
    obligations { id status } risks { id status acknowledged }
    prioritizations { id status ballots { voter ranking } ranking { entries { expectationId } } }
    gapAnalysis { expectationId priority weight met flagged weightedShortfall }
    baselines { id status } }"""
THEN_AND_NOW = f"""query($c: ID!, $e: ID!, $at: DateTime!) {{
    then: contract(id: $c, asOf: $at) {CONTRACT}
    now: contract(id: $c) {CONTRACT}
    expectationThen: expectation(id: $e, asOf: $at) {{ version corporatePriority }} }}"""
TRAIL = """query($c: ID!) { auditTrail(contractId: $c, first: 100) {
    edges { node { eventType occurredAt } } } }"""


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with accord_dev(tmp_path_factory.mktemp("time-travel")) as (url, _):
        yield url


def answered(url: str, query: str, **variables: Any) -> dict[str, Any]:
    body = ask(url, "ceo", query, **variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def published_at(url: str, contract: str) -> datetime:
    """When the contract's corporate ranking was published, once the read model has it."""
    for _ in range(100):
        edges = answered(url, TRAIL, c=contract)["auditTrail"]["edges"]
        for edge in edges:
            if "CorporatePrioritiesPublished" in edge["node"]["eventType"]:
                return datetime.fromisoformat(edge["node"]["occurredAt"])
    raise AssertionError("the ranking was never published")


def test_before_the_ranking_was_published_the_contract_shows_none_of_it(url: str) -> None:
    contract, expectations = a_ranked_contract_measured_in_january(url)
    published = published_at(url, contract)
    first = expectations["range"]
    before = (published - timedelta(microseconds=1)).isoformat()
    data = answered(url, THEN_AND_NOW, c=contract, e=first, at=before)
    then, now = data["then"], data["now"]

    assert [e["corporatePriority"] for e in then["expectations"]] == [None] * 4
    assert [g["weight"] for g in then["gapAnalysis"]] == [None] * 4
    assert [p["ranking"] for p in then["prioritizations"]] == [None]
    assert [p["status"] for p in then["prioritizations"]] == ["CLOSED"]
    assert data["expectationThen"]["corporatePriority"] is None
    # the same operation's present has them all
    assert [e["corporatePriority"] for e in now["expectations"]] == [1, 2, 3, 4]
    assert [p["status"] for p in now["prioritizations"]] == ["PUBLISHED"]
    # and what was recorded before the instant is there, as it was
    assert then["title"] == now["title"] and then["participants"] == now["participants"]
    measured = {e["id"]: (e["measurements"], e["terms"]) for e in then["expectations"]}
    assert measured == {e["id"]: (e["measurements"], e["terms"]) for e in now["expectations"]}
    assert set(measured) == set(expectations.values())


def test_as_of_now_it_is_the_present_and_before_it_was_opened_there_was_none(url: str) -> None:
    contract, expectations = a_ranked_contract_measured_in_january(url)
    published = published_at(url, contract)
    later = (published + timedelta(seconds=1)).isoformat()
    data = answered(url, THEN_AND_NOW, c=contract, e=expectations["range"], at=later)
    assert data["then"] == data["now"]
    assert data["expectationThen"]["corporatePriority"] == 1

    opened = answered(url, TRAIL, c=contract)["auditTrail"]["edges"][0]["node"]["occurredAt"]
    before = (datetime.fromisoformat(opened) - timedelta(microseconds=1)).isoformat()
    data = answered(url, THEN_AND_NOW, c=contract, e=expectations["range"], at=before)
    assert data["then"] is None and data["expectationThen"] is None
    assert data["now"]["id"] == contract


def test_someone_without_a_role_on_the_contract_is_refused_its_past(url: str) -> None:
    contract, _ = a_ranked_contract_measured_in_january(url)
    query = 'query($c: ID!) { contract(id: $c, asOf: "2027-01-01T00:00:00Z") { title } }'
    body = ask(url, "stranger", query, c=contract)
    assert body["data"]["contract"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


RANKED = """query($c: ID!, $at: DateTime!) {
    then: contract(id: $c, asOf: $at) { prioritizations { ranking { entries {
        position expectationId expectation { id text corporatePriority } } } } }
    now: contract(id: $c) { prioritizations { ranking { entries {
        position expectationId expectation { id text corporatePriority } } } } } }"""


def test_a_rankings_entries_name_their_expectations_as_they_stood_then(url: str) -> None:
    contract, expectations = a_ranked_contract_measured_in_january(url)
    published = published_at(url, contract)
    terms, _ = CASES["range"]
    refined = ask(
        url, "am",
        """mutation($e: ID!, $terms: TermsInput!) { refineExpectation(input: {expectationId: $e,
        text: "Reworded after the ranking", reason: "client asked", terms: $terms}) {
        __typename } }""",
        e=expectations["range"],
        terms={**terms, "metric": "range", "recurrence": "MONTHLY",
               "measurementMethod": "monthly report"},
    )  # fmt: skip
    assert "errors" not in refined, refined
    assert refined["data"]["refineExpectation"]["__typename"] == "ExpectationChanged", refined
    at = (published + timedelta(microseconds=1)).isoformat()
    data = answered(url, RANKED, c=contract, at=at)

    [then], [now] = data["then"]["prioritizations"], data["now"]["prioritizations"]
    for entries in (then["ranking"]["entries"], now["ranking"]["entries"]):
        # a front end shows each place with its expectation, without a second query
        assert [e["expectation"]["id"] for e in entries] == [e["expectationId"] for e in entries]
        assert [e["expectation"]["corporatePriority"] for e in entries] == [1, 2, 3, 4]
    texts_then = {e["expectationId"]: e["expectation"]["text"] for e in then["ranking"]["entries"]}
    texts_now = {e["expectationId"]: e["expectation"]["text"] for e in now["ranking"]["entries"]}
    assert texts_now[expectations["range"]] == "Reworded after the ranking"
    assert texts_then[expectations["range"]] == "made measurable"
    others = set(expectations.values()) - {expectations["range"]}
    assert {e: texts_then[e] for e in others} == {e: texts_now[e] for e in others}
