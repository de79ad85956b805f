"""Every fact of the method reads back as a typed GraphQL field, over HTTP on a real `accord dev`:
questions with their answers and the expectations they led to, a commitment, measurements, gaps
with their recovery plans and steps, who acknowledged a risk and when, lessons with their
preventive actions, a published ranking's ties and head-to-head counts; and a service's refusal
names fields as the schema does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.accord_process import accord_dev, ask

REFUSAL = "... on Refusal { code message details }"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with accord_dev(tmp_path_factory.mktemp("reads")) as (url, _):
        yield url


def mutate(url: str, person: str, mutation: str, payload: str, **variables: Any) -> Any:
    """A mutation's answer, which must be `payload`; anything else fails with the answer."""
    body = ask(url, person, mutation, **variables)
    assert "errors" not in body, body
    [answer] = body["data"].values()
    assert answer["__typename"] == payload, answer
    return answer


def read(url: str, person: str, query: str, **variables: Any) -> Any:
    body = ask(url, person, query, **variables)
    assert "errors" not in body, body
    return body["data"]


@dataclass
class Story:
    contract: str
    question: str
    expectations: list[str]
    measurement: str
    gap: str
    risk: str
    lesson: str


def created(url: str, person: str, mutation: str, input: dict[str, Any], kind: str) -> str:
    """Run `mutation` with `input`; answer the id of what it created."""
    answer = mutate(
        url, person,
        f"""mutation($input: {mutation[0].upper()}{mutation[1:]}Input!) {{ {mutation}(input: $input)
        {{ __typename {REFUSAL} ... on {kind} {{ created consistent }} }} }}""",
        kind, input=input,
    )  # fmt: skip
    assert answer["consistent"] is True, answer
    return str(answer["created"])


@pytest.fixture(scope="module")
def story(url: str) -> Story:
    """A contract taken from a question to a lesson, through GraphQL only."""
    contract = created(url, "am", "openContract", {
        "clientOrganisation": "Northwind", "providerOrganisation": "Contoso", "title": "Tills",
        "startsOn": "2027-01-01", "name": "Ann", "role": "PROVIDER_ACCOUNT_MANAGER"},
        "ContractChanged")  # fmt: skip
    for person, by, role in [("lead", "am", "PROVIDER_DELIVERY_LEAD"), ("ceo", "am", "CLIENT_SPONSOR"),
                             ("cfo", "ceo", "CLIENT_DECISION_MAKER"), ("cio", "ceo", "CLIENT_DECISION_MAKER")]:  # fmt: skip
        created(url, by, "joinContract", {"contractId": contract, "personId": person,
                "name": person.upper(), "role": role}, "ContractChanged")  # fmt: skip
    question = created(url, "am", "askQuestion", {"contractId": contract, "askedOf": "cfo",
        "businessArea": "finance", "text": "What if a till fails?"}, "ContractChanged")  # fmt: skip
    created(url, "cfo", "answerQuestion", {"contractId": contract, "questionId": question,
            "answer": "Queues reach the door"}, "ContractChanged")  # fmt: skip
    expectations = [
        created(url, "cfo", "proposeExpectation", {"contractId": contract, "text": text,
                "businessArea": "stores", "fromAnswers": answers}, "ExpectationChanged")
        for text, answers in [("Tills work", [question]), ("Spares on site", [question])]
    ]  # fmt: skip
    # The first is met month by month; the second once, by a day.
    for expectation, when in zip(
        expectations, [{"recurrence": "MONTHLY"}, {"deadline": "2027-06-30"}], strict=True
    ):
        created(url, "am", "refineExpectation", {"expectationId": expectation,
                "text": "Tills are available", "reason": "made measurable", "terms": {
                "metric": "availability", "comparison": "AT_LEAST", "target": "99.5",
                "unit": "percent", "measurementMethod": "monitoring",
                    "measuredBy": "provider", **when}}, "ExpectationChanged")  # fmt: skip
    first = expectations[0]
    created(url, "am", "commitToExpectation", {"expectationId": first, "note": "we can"},
            "ExpectationChanged")  # fmt: skip
    measurement = created(url, "lead", "recordMeasurement", {"expectationId": first,
        "periodStart": "2027-01-01", "periodEnd": "2027-01-31", "value": "98.1",
        "source": "January report"}, "ExpectationChanged")  # fmt: skip
    gap = created(url, "am", "acknowledgeGap", {"expectationId": first,
        "measurementId": measurement, "cause": "a disk failed"}, "ExpectationChanged")  # fmt: skip
    mutate(url, "am", f"""mutation($input: AgreeRecoveryPlanInput!) {{ agreeRecoveryPlan(
        input: $input) {{ __typename {REFUSAL} }} }}""", "ExpectationChanged", input={
        "expectationId": first, "gapId": gap, "agreedWith": "cfo", "revisedTarget": "99",
        "steps": [{"action": "add a spare", "owner": "lead", "dueOn": "2027-03-01"},
                  {"action": "train staff", "owner": "lead", "dueOn": "2027-04-01"}]})  # fmt: skip
    mutate(url, "lead", f"""mutation($input: CompleteRecoveryStepInput!) {{ completeRecoveryStep(
        input: $input) {{ __typename {REFUSAL} }} }}""", "ExpectationChanged", input={
        "expectationId": first, "gapId": gap, "step": 1, "note": "spare in place"})  # fmt: skip
    risk = created(url, "am", "discloseRisk", {"contractId": contract, "kind": "PRECONDITIONING",
        "title": "Peak load", "description": "December doubles traffic", "likelihood": 3,
        "impact": 4, "affectedExpectations": [first], "prepareFor": "slower start-up"},
        "RiskChanged")  # fmt: skip
    for person in ("cfo", "cio"):
        mutate(url, person, f"""mutation($r: ID!) {{ acknowledgeRisk(input: {{riskId: $r}}) {{
            __typename {REFUSAL} }} }}""", "RiskChanged", r=risk)  # fmt: skip
    lesson = created(url, "am", "recordLessonLearned", {"contractId": contract,
        "lesson": "Spares help", "riskIds": [risk], "expectationIds": [first]},
        "ContractChanged")  # fmt: skip
    for action, due in [("Stock a spare till", "2027-05-01"), ("Check spares", "2027-02-01")]:
        created(url, "am", "planPreventiveAction", {"lessonId": lesson, "action": action,
                "owner": "lead", "dueOn": due}, "ContractChanged")  # fmt: skip
    session = mutate(url, "am", f"""mutation($c: ID!) {{ openPrioritization(input: {{
        contractId: $c, method: DOTS, dots: 4}}) {{ __typename {REFUSAL}
        ... on PrioritizationChanged {{ prioritization {{ id }} }} }} }}""",
        "PrioritizationChanged", c=contract)["prioritization"]["id"]  # fmt: skip
    # Level dots: the ranking has a tie to explain.
    mutate(url, "cfo", f"""mutation($s: ID!, $d: [DotsForInput!]) {{ castVote(input: {{
        prioritizationId: $s, dots: $d}}) {{ __typename {REFUSAL} }} }}""",
        "PrioritizationChanged", s=session,
        d=[{"expectationId": e, "dots": 2} for e in expectations])  # fmt: skip
    mutate(url, "am", f"""mutation($s: ID!) {{ closePrioritization(input: {{prioritizationId: $s}})
        {{ __typename {REFUSAL} }} }}""", "PrioritizationChanged", s=session)  # fmt: skip
    return Story(contract, question, expectations, measurement, gap, risk, lesson)


def test_a_question_shows_its_answer_and_the_expectations_it_led_to(url: str, story: Story) -> None:
    contract = read(url, "cfo", """query($c: ID!) { contract(id: $c) { questions { id askedOf
        businessArea text askedBy askedAt answer answeredBy recordedBy answeredAt
        expectations { id status } } } }""", c=story.contract)["contract"]  # fmt: skip
    [question] = contract["questions"]
    assert question["id"] == story.question
    assert (question["askedOf"], question["askedBy"]) == ("cfo", "am")
    assert (question["answer"], question["answeredBy"]) == ("Queues reach the door", "cfo")
    assert question["answeredAt"] >= question["askedAt"]
    assert [e["id"] for e in question["expectations"]] == story.expectations
    assert question["expectations"][0]["status"] == "COMMITTED"


def test_an_expectation_shows_its_commitment_measurements_and_recovery(
    url: str, story: Story
) -> None:
    expectation = read(url, "cfo", """query($e: ID!) { expectation(id: $e) { status fromAnswers
        terms { comparison recurrence target }
        commitment { revision note by at } decline { reason } withdrawal { reason }
        measurements { id revision comparison target value unit source met shortfall
          recordedBy gapId periodStart periodEnd }
        gaps { id measurementId shortfall cause acknowledgedBy recoveryPlan { agreedWith
          agreedBy revisedTarget revision stepsCompleted recovered steps { step action owner
          dueOn completed note completedBy completedAt } } } } }""",
        e=story.expectations[0])["expectation"]  # fmt: skip
    assert expectation["status"] == "COMMITTED"
    assert expectation["fromAnswers"] == [story.question]
    assert expectation["terms"]["comparison"] == "AT_LEAST"
    assert expectation["terms"]["recurrence"] == "MONTHLY"
    assert expectation["commitment"]["note"] == "we can"
    assert expectation["commitment"]["by"] == "am"
    assert expectation["decline"] is None and expectation["withdrawal"] is None
    [measured] = expectation["measurements"]
    assert measured["id"] == story.measurement and measured["gapId"] == story.gap
    assert (measured["comparison"], measured["met"], measured["source"]) == (
        "AT_LEAST", False, "January report")  # fmt: skip
    assert float(measured["value"]) == 98.1 and float(measured["target"]) == 99.5
    assert float(measured["shortfall"]) > 0
    [gap] = expectation["gaps"]
    assert (gap["id"], gap["measurementId"]) == (story.gap, story.measurement)
    assert (gap["cause"], gap["acknowledgedBy"]) == ("a disk failed", "am")
    plan = gap["recoveryPlan"]
    assert (plan["agreedWith"], plan["agreedBy"], float(plan["revisedTarget"])) == ("cfo", "am", 99)
    assert (plan["stepsCompleted"], plan["recovered"]) == (1, False)
    done, open_step = plan["steps"]
    assert (done["step"], done["completed"], done["note"], done["completedBy"]) == (
        1, True, "spare in place", "lead")  # fmt: skip
    assert (open_step["action"], open_step["dueOn"], open_step["completed"]) == (
        "train staff", "2027-04-01", False)  # fmt: skip
    assert open_step["completedAt"] is None


def test_a_version_names_each_changed_value_by_its_schema_path(url: str, story: Story) -> None:
    history = read(url, "cfo", """query($e: ID!) { expectationHistory(id: $e) { eventType
        changes { field old new oldItems newItems } state { status revision
        commitment { note } } } }""", e=story.expectations[0])["expectationHistory"]  # fmt: skip
    by_event = {version["eventType"]: version for version in history}
    refined = {c["field"]: c for c in by_event["ExpectationRefined"]["changes"]}
    assert (refined["terms.target"]["old"], refined["terms.target"]["new"]) == (None, "99.5")
    assert refined["terms.comparison"]["new"] == "at_least"
    assert refined["measurable"] == {
        "field": "measurable",
        "old": "false",
        "new": "true",
        "oldItems": None,
        "newItems": None,
    }
    committed = by_event["ExpectationCommitted"]
    assert committed["state"]["status"] == "COMMITTED"
    assert committed["state"]["commitment"] == {"note": "we can"}
    assert {c["field"]: c["new"] for c in committed["changes"]}["commitment.note"] == "we can"
    proposed = {c["field"]: c for c in by_event["ExpectationProposed"]["changes"]}
    assert proposed["fromAnswers"]["newItems"] == [story.question]


def test_a_risk_shows_who_acknowledged_it_and_when(url: str, story: Story) -> None:
    [risk] = read(url, "ceo", """query($c: ID!) { contract(id: $c) { risks { id kind status
        acknowledged disclosedBy disclosedAt acknowledgements { personId at } resolvedBy } } }""",
        c=story.contract)["contract"]["risks"]  # fmt: skip
    assert (risk["id"], risk["kind"], risk["status"]) == (story.risk, "PRECONDITIONING", "OPEN")
    assert risk["acknowledged"] is True and risk["disclosedBy"] == "am"
    assert [a["personId"] for a in risk["acknowledgements"]] == ["cfo", "cio"]
    assert all(a["at"] >= risk["disclosedAt"] for a in risk["acknowledgements"])
    assert risk["resolvedBy"] is None


def test_a_lesson_shows_its_preventive_actions_by_due_date(url: str, story: Story) -> None:
    [lesson] = read(url, "am", """query($c: ID!) { contract(id: $c) { lessons { id lesson riskIds
        expectationIds learnedBy preventiveActions { id action owner dueOn plannedBy } } } }""",
        c=story.contract)["contract"]["lessons"]  # fmt: skip
    assert (lesson["id"], lesson["lesson"], lesson["learnedBy"]) == (
        story.lesson,
        "Spares help",
        "am",
    )
    assert (lesson["riskIds"], lesson["expectationIds"]) == ([story.risk], story.expectations[:1])
    actions = lesson["preventiveActions"]
    assert [(a["action"], a["dueOn"]) for a in actions] == [
        ("Check spares", "2027-02-01"), ("Stock a spare till", "2027-05-01")]  # fmt: skip
    assert all(a["owner"] == "lead" and a["plannedBy"] == "am" and a["id"] for a in actions)


def test_a_published_ranking_explains_its_ties_and_head_to_head_counts(
    url: str, story: Story
) -> None:
    [session] = read(url, "cfo", """query($c: ID!) { contract(id: $c) { prioritizations { method
        status ballots { voter ranking dots { expectationId dots } }
        ranking { method ties { position candidates rule values { expectationId value } order }
        pairwise { above below voters } } } } }""", c=story.contract)["contract"]["prioritizations"]  # fmt: skip
    assert (session["method"], session["status"]) == ("DOTS", "PUBLISHED")
    [ballot] = session["ballots"]
    assert ballot["ranking"] is None
    assert sorted((d["expectationId"], d["dots"]) for d in ballot["dots"]) == sorted(
        (e, 2) for e in story.expectations)  # fmt: skip
    ranking = session["ranking"]
    assert ranking["method"] == "DOTS"
    assert ranking["ties"], ranking
    assert ranking["ties"][0]["position"] == 1
    assert sorted(ranking["ties"][0]["candidates"]) == sorted(story.expectations)
    assert ranking["ties"][-1]["rule"] == "EXPECTATION_ID"
    assert {(p["above"], p["below"]) for p in ranking["pairwise"]} == {
        (a, b) for a in story.expectations for b in story.expectations if a != b}  # fmt: skip
    assert all(p["voters"] == 0 for p in ranking["pairwise"])  # level dots: nobody prefers one


def test_terms_met_by_a_day_read_the_day_as_a_date(url: str, story: Story) -> None:
    by_day, monthly = (
        read(url, "cfo", "query($e: ID!) { expectation(id: $e) { terms { deadline recurrence } } }",
             e=expectation)["expectation"]["terms"]
        for expectation in (story.expectations[1], story.expectations[0])
    )  # fmt: skip
    assert by_day == {"deadline": "2027-06-30", "recurrence": None}
    assert monthly == {"deadline": None, "recurrence": "MONTHLY"}
    [field] = [
        f for f in read(url, "cfo", '{ __type(name: "Terms") { fields { name type { name } } } }')[
            "__type"]["fields"] if f["name"] == "deadline"
    ]  # fmt: skip
    assert field["type"]["name"] == "Date"


def test_a_service_refusal_names_fields_as_the_schema_does(url: str, story: Story) -> None:
    refused = mutate(url, "am", f"""mutation($e: ID!) {{ commitToExpectation(input: {{
        expectationId: $e, expectedVersion: 1}}) {{ __typename {REFUSAL} }} }}""", "Conflict",
        e=story.expectations[1])  # fmt: skip
    assert refused["details"]["expectedVersion"] == 1, refused
    assert "expected_version" not in refused["details"]


def test_a_page_of_contracts_says_where_it_starts_and_whether_pages_come_before(
    url: str, story: Story
) -> None:
    query = """query($after: String) { contracts(first: 1, after: $after) { edges { cursor }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
    first = read(url, "am", query)["contracts"]
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert first["pageInfo"]["startCursor"] == first["edges"][0]["cursor"]
    after = first["pageInfo"]["endCursor"]
    second = read(url, "am", query, after=after)["contracts"]
    assert second["pageInfo"]["hasPreviousPage"] is True
