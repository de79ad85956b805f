"""`accord demo`: a realistic outsourcing contract, built through the public HTTP API."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console

from shared.auth import mint_token
from shared.settings import Settings

console = Console(stderr=True)

PROVIDER = {
    "am": ("Ann Marsh", "provider_account_manager"),
    "lead": ("Lee Dunn", "provider_delivery_lead"),
}
# Five decision makers, each from a department with its own idea of what matters most.
DECISION_MAKERS = {
    "cfo": ("Chris Fagan", "finance"),
    "cio": ("Ines Ortiz", "it"),
    "coo": ("Omar Cole", "operations"),
    "chro": ("Hana Roy", "people"),
    "cso": ("Sam Ode", "stores"),
}
SPONSOR = ("ceo", "Eve Carter")


def _terms(metric: str, comparison: str, target: str, unit: str, method: str) -> dict[str, Any]:
    return {
        "metric": metric, "comparison": comparison, "target": target, "unit": unit,
        "recurrence": "monthly", "measurement_method": method, "measured_by": "provider",
    }  # fmt: skip


# (proposer, text, business area, why it matters, measurable terms)
EXPECTATIONS = [
    ("cfo", "Monthly cost report arrives on time", "finance", "budget control",
     _terms("report delay", "at_most", "2", "working days", "delivery date of the report")),
    ("cfo", "Invoices match the agreed rate card", "finance", "no disputes",
     _terms("invoice accuracy", "at_least", "99", "percent", "audit of invoice lines")),
    ("cio", "Service desk answers quickly", "it", "engineers stay productive",
     _terms("first response time", "at_most", "30", "minutes", "ticket system report")),
    ("cio", "Security patches go in promptly", "it", "audit findings",
     _terms("critical patch lead time", "at_most", "7", "days", "patch management report")),
    ("coo", "Warehouse systems stay up", "operations", "shipments leave on time",
     _terms("availability", "at_least", "99.5", "percent", "monitoring report")),
    ("coo", "Incidents are fixed fast", "operations", "lines keep running",
     _terms("priority 1 resolution time", "at_most", "4", "hours", "ticket system report")),
    ("chro", "New starters have a laptop on day one", "people", "first impressions",
     _terms("ready on day one", "at_least", "95", "percent", "onboarding tracker")),
    ("chro", "Staff rate the service well", "people", "morale",
     _terms("satisfaction score", "at_least", "4", "points of 5", "quarterly survey")),
    ("cso", "Tills work all trading hours", "stores", "lost sales",
     _terms("till availability", "at_least", "99.8", "percent", "store monitoring")),
    ("cso", "Store Wi-Fi is reliable", "stores", "mobile payments",
     _terms("Wi-Fi availability", "at_least", "99", "percent", "network monitoring")),
    ("coo", "Reports on capacity each quarter", "operations", "planning",
     _terms("capacity report delay", "at_most", "5", "working days", "delivery date")),
    ("cio", "Backups can be restored", "it", "resilience",
     _terms("successful restore tests", "at_least", "100", "percent", "restore test log")),
]  # fmt: skip
# Two stakeholders asked for the same thing in their own words.
DUPLICATES = [
    ("cso", "Checkout systems never go down", "stores", "queues", 8),
    ("coo", "Service desk replies fast", "operations", "downtime", 2),
]


@dataclass
class Demo:
    """Speaks to the services as each person in turn."""

    http: httpx.Client
    settings: Settings
    elicitation: str
    ranking: str
    notifications: str
    gateway: str
    made: dict[str, Any] = field(default_factory=dict)

    def post(self, person: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
        token = mint_token(self.settings, person)
        response = self.http.post(url, json=body, headers={"authorization": f"Bearer {token}"})
        if response.status_code != 200:
            raise RuntimeError(f"POST {url} as {person}: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    def get(self, person: str, url: str) -> httpx.Response:
        token = mint_token(self.settings, person)
        return self.http.get(url, headers={"authorization": f"Bearer {token}"})

    def e(self, person: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.post(person, f"{self.elicitation}{path}", body)

    def graphql(self, person: str, query: str, **variables: Any) -> dict[str, Any]:
        """The data of a GraphQL operation; any error in the answer stops the demo."""
        answer = self.post(person, self.gateway, {"query": query, "variables": variables})
        if answer.get("errors"):
            raise RuntimeError(f"GraphQL as {person}: {answer['errors']}")
        data: dict[str, Any] = answer["data"]
        return data


def build(demo: Demo) -> dict[str, Any]:
    """The whole story: meeting, refinement, advice, obligations, risk, delivery and the
    recovery of a missed target, prioritization."""
    contract = demo.e("am", "/contracts", {
        "client_organisation": "Northwind Retail", "provider_organisation": "Contoso Managed Services",
        "title": "Managed IT operations 2027-2029", "starts_on": "2027-01-01",
        "name": PROVIDER["am"][0], "role": "provider_account_manager", "email": "ann.marsh@contoso.example",
    })["id"]  # fmt: skip
    c = f"/contracts/{contract}"
    demo.e(
        "am",
        f"{c}/participants",
        {
            "person_id": "lead",
            "name": PROVIDER["lead"][0],
            "role": PROVIDER["lead"][1],
            "email": "lee.dunn@contoso.example",
        },
    )
    demo.e(
        "am",
        f"{c}/participants",
        {
            "person_id": SPONSOR[0],
            "name": SPONSOR[1],
            "role": "client_sponsor",
            "email": "eve.carter@northwind.example",
        },
    )
    for person, (name, _) in DECISION_MAKERS.items():  # each side appoints its own people
        demo.e(
            SPONSOR[0],
            f"{c}/participants",
            {
                "person_id": person,
                "name": name,
                "role": "client_decision_maker",
                "email": f"{person}@northwind.example",
            },
        )
    question = demo.e(
        "am",
        f"{c}/questions",
        {
            "asked_of": "cso",
            "business_area": "stores",
            "text": "What happens in a store when the tills stop?",
        },
    )["created"]
    demo.e(
        "cso",
        f"{c}/answers",
        {"question_id": question, "answer": "Queues form within minutes and customers leave."},
    )

    expectations: list[tuple[str, str]] = []
    for proposer, text, area, why, terms in EXPECTATIONS:
        proposed = demo.e(
            proposer,
            f"{c}/expectations",
            {"text": text, "business_area": area, "why_it_matters": why},
        )
        demo.e(
            "am",
            f"/expectations/{proposed['id']}/refine",
            {
                "text": text,
                "terms": terms,
                "reason": "made specific and measurable in the meeting",
                "expected_version": 1,
            },
        )
        expectations.append((proposed["id"], area))
    for proposer, text, area, why, original in DUPLICATES:
        duplicate = demo.e(
            proposer,
            f"{c}/expectations",
            {"text": text, "business_area": area, "why_it_matters": why},
        )["id"]
        demo.e(
            "am",
            f"/expectations/{expectations[original][0]}/merge",
            {"merged_expectation_id": duplicate, "reason": "the same need in other words"},
        )

    advice = [(4, "critical", "feasible", "Warehouse downtime stops shipments: our experience says this matters most."),
              (8, "critical", "stretch", "99.8% for tills needs a spare in each store."),
              (7, "medium", "feasible", "A quarterly survey is enough to see a trend.")]  # fmt: skip
    for index, importance, feasibility, text in advice:
        demo.e(
            "am",
            f"/expectations/{expectations[index][0]}/advice",
            {"advice": text, "importance": importance, "feasibility": feasibility},
        )
    for committed, _ in expectations[:6]:
        demo.e("am", f"/expectations/{committed}/commit", {"note": "we can meet this"})

    obligations = [("Remote access to the store network", "cio", [8, 9]),
                   ("Named contact for each warehouse", "coo", [4, 5]),
                   ("Monthly headcount forecast", "chro", [6])]  # fmt: skip
    made = []
    for what, needed_from, depends in obligations:
        made.append(
            demo.e(
                "am",
                f"{c}/obligations",
                {
                    "what": what,
                    "needed_from": needed_from,
                    "due_on": "2027-01-15",
                    "depends_on": [expectations[i][0] for i in depends],
                },
            )["id"]
        )
    demo.e("cio", f"/obligations/{made[0]}/accept", {})
    demo.e("coo", f"/obligations/{made[1]}/accept", {})
    demo.e(
        "chro",
        f"/obligations/{made[2]}/decline",
        {"reason": "forecasts are confidential; we will share monthly starters instead"},
    )

    risk = demo.e("am", f"{c}/risks", {
        "kind": "preconditioning", "title": "Peak season load on tills", "description": "December trading doubles till traffic.",
        "likelihood": 3, "impact": 4, "affected_expectations": [expectations[8][0]],
        "prepare_for": "slower till start-up on December Saturdays; a spare till per store is on standby",
    })["id"]  # fmt: skip
    demo.e("cso", f"/risks/{risk}/acknowledge", {})

    measured = {}
    for index, value in [(4, "99.7"), (8, "99.1"), (2, "25")]:
        measured[index] = demo.e(
            "lead",
            f"/expectations/{expectations[index][0]}/measurements",
            {
                "period_start": "2027-01-01",
                "period_end": "2027-01-31",
                "value": value,
                "source": "January service report",
            },
        )["created"]
    recovery = close_the_gap(demo, expectations[8][0], measured[8])

    ranking = prioritize(demo, contract, [e for e, _ in expectations], dict(expectations))
    return {
        "contract_id": contract,
        "expectations": len(expectations),
        "ranking": ranking,
        "notices": notices(demo, contract),
        "recovery": recovery,
    }


GAP = """mutation($e: ID!, $m: ID!) { acknowledgeGap(input: {expectationId: $e, measurementId: $m,
  cause: "Two stores ran without their spare till over the January sales"}) {
  __typename ... on ExpectationChanged { created } ... on Refusal { code message } } }"""
PLAN = """mutation($e: ID!, $g: ID!, $steps: [RecoveryStepInput!]!) { agreeRecoveryPlan(input: {
  expectationId: $e, gapId: $g, steps: $steps, agreedWith: "cso", revisedTarget: "99.5"}) {
  __typename ... on Refusal { code message } } }"""
STEP = """mutation($e: ID!, $g: ID!, $n: Int!) { completeRecoveryStep(input: {expectationId: $e,
  gapId: $g, step: $n, note: "done"}) { __typename ... on Refusal { code message } } }"""
RECOVERY_STEPS = [
    {"action": "Put a spare till in every store", "owner": "lead", "due_on": "2027-02-15"},
    {"action": "Check each spare before trading starts", "owner": "cso", "due_on": "2027-02-28"},
]


def close_the_gap(demo: Demo, expectation: str, measurement: str) -> dict[str, Any]:
    """The missed till target: gap acknowledged, plan agreed (dated steps, a revised target),
    each step completed. Through GraphQL, as a front end does it: the gateway forwards the
    nested, dated steps, which the services' own API never exercises."""
    acknowledged = demo.graphql("am", GAP, e=expectation, m=measurement)["acknowledgeGap"]
    _check("acknowledgeGap", acknowledged)
    gap = acknowledged["created"]
    plan = demo.graphql("am", PLAN, e=expectation, g=gap, steps=[
        {"action": s["action"], "owner": s["owner"], "dueOn": s["due_on"]} for s in RECOVERY_STEPS
    ])  # fmt: skip
    _check("agreeRecoveryPlan", plan["agreeRecoveryPlan"])
    for number, step in enumerate(RECOVERY_STEPS, start=1):
        done = demo.graphql(step["owner"], STEP, e=expectation, g=gap, n=number)
        _check("completeRecoveryStep", done["completeRecoveryStep"])
    return {"expectation_id": expectation, "gap_id": gap, "steps": len(RECOVERY_STEPS)}


def _check(mutation: str, answer: dict[str, Any]) -> None:
    if answer["__typename"] != "ExpectationChanged":
        raise RuntimeError(f"{mutation}: {answer}")


def notices(demo: Demo, contract: str) -> int:
    """How many notices the story has produced so far (they keep arriving for a moment)."""
    deadline = time.monotonic() + 10
    count = 0
    while time.monotonic() < deadline:
        answer = demo.get("am", f"{demo.notifications}/contracts/{contract}/deliveries")
        if answer.status_code == 200:
            count = len(answer.json()["notices"])
            if count:
                return count
        time.sleep(0.2)
    return count


def prioritize(
    demo: Demo, contract: str, expectation_ids: list[str], area: dict[str, str]
) -> list[str]:
    """Each decision maker ranks their own department first; the votes become one ranking."""
    # Ranking learns the contract from the events: wait until its view has the whole ballot.
    deadline = time.monotonic() + 60
    while True:
        ballot = demo.get("am", f"{demo.ranking}/contracts/{contract}/ballot")
        if (
            ballot.status_code == 200
            and len(ballot.json()["expectations"]) == len(expectation_ids)
            and len(ballot.json()["voters"]) == len(DECISION_MAKERS)
        ):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the ranking service never saw the whole ballot: {ballot.text}")
        time.sleep(0.2)
    session = demo.post(
        "am", f"{demo.ranking}/contracts/{contract}/prioritizations", {"method": "schulze"}
    )["id"]
    shared_view = sorted(expectation_ids)
    for voter, (_, department) in DECISION_MAKERS.items():
        own = [e for e in shared_view if area[e] == department]
        others = [e for e in shared_view if area[e] != department]
        demo.post(
            voter, f"{demo.ranking}/prioritizations/{session}/votes", {"ranking": own + others}
        )
    demo.post("am", f"{demo.ranking}/prioritizations/{session}/close", {})
    shown = demo.get("am", f"{demo.ranking}/prioritizations/{session}").json()
    ranking: list[str] = shown["result"]["ranking"]
    return ranking


def run(base_url: str, settings: Settings) -> dict[str, Any]:
    """Load the demo into the Accord at base_url (the embedded default mounts every service)."""
    with httpx.Client(timeout=30) as http:
        demo = Demo(
            http,
            settings,
            f"{base_url}/elicitation",
            f"{base_url}/ranking",
            f"{base_url}/notifications",
            f"{base_url}/graphql",
        )
        summary = build(demo)
    console.print(
        f"demo contract {summary['contract_id']}: {summary['expectations']} expectations, "
        f"corporate ranking published, a missed target recovered in"
        f" {summary['recovery']['steps']} steps, {summary['notices']} notices sent"
    )
    return summary
