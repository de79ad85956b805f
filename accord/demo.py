"""`accord demo`: a realistic outsourcing contract, built through Accord's GraphQL API only, so
that it loads into the embedded default and the distributed mode alike."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
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
CLIENT, TITLE = "Northwind Retail", "Managed IT operations 2027-2029"


def _terms(metric: str, comparison: str, target: str, unit: str, method: str) -> dict[str, Any]:
    return {
        "metric": metric, "comparison": comparison, "target": target, "unit": unit,
        "recurrence": "monthly", "measurementMethod": method, "measuredBy": "provider",
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
# What every decision maker ranks right after their own department: the tills, the warehouse.
TRADING = (8, 4)
# Two stakeholders asked for the same thing in their own words.
DUPLICATES = [
    ("cso", "Checkout systems never go down", "stores", "queues", 8),
    ("coo", "Service desk replies fast", "operations", "downtime", 2),
]


# Input fields whose named type is an enum, and nested input types, read from the schema this
# code serves (no introspection over HTTP: production turns it off, and the demo runs there
# too): the story names closed sets in the services' words (`at_most`); GraphQL's is AT_MOST.
ANSWER = "__typename ... on Refusal { code message }"


def input_fields() -> dict[str, dict[str, dict[str, str]]]:
    """Each input type's fields: the kind (ENUM, INPUT_OBJECT...) and name of its named type."""
    from graphql import GraphQLEnumType, GraphQLInputObjectType, get_named_type

    from services.gateway.schema import schema

    def kind_of(named: object) -> str:
        if isinstance(named, GraphQLEnumType):
            return "ENUM"
        return "INPUT_OBJECT" if isinstance(named, GraphQLInputObjectType) else ""

    return {
        name: {
            field: {"kind": kind_of(named := get_named_type(value.type)), "name": named.name}
            for field, value in kind.fields.items()
        }
        for name, kind in schema._schema.type_map.items()
        if isinstance(kind, GraphQLInputObjectType)
    }


class DemoRefused(RuntimeError):
    """What answers at the address does not take the demo; `code` says how, for one line."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass
class Demo:
    """Speaks to Accord's one GraphQL API as each person in turn."""

    http: httpx.Client
    settings: Settings
    gateway: str
    fields: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def graphql(self, person: str, query: str, **variables: Any) -> dict[str, Any]:
        """The data of a GraphQL operation; any error in the answer stops the demo."""
        token = mint_token(self.settings, person)
        response = self.http.post(
            self.gateway, json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )  # fmt: skip
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not {"data", "errors"} & set(answer):
            raise DemoRefused(
                "NOT_ACCORD",
                f"{self.gateway} answered {response.status_code}, not as Accord's GraphQL API:"
                " give the address of `accord dev` or of the distributed mode's gateway",
            )
        codes = {(e.get("extensions") or {}).get("code") for e in answer.get("errors") or ()}
        if "UNAUTHENTICATED" in codes:
            raise DemoRefused(
                "TOKEN_REFUSED",
                f"{self.gateway} refused the demo's development tokens: run the demo with the"
                " ACCORD_JWT_SECRET that Accord runs with",
            )
        if response.status_code != 200:
            raise RuntimeError(f"GraphQL as {person}: {response.status_code} {response.text}")
        if answer.get("errors"):
            raise RuntimeError(f"GraphQL as {person}: {answer['errors']}")
        data: dict[str, Any] = answer["data"]
        return data

    def command(
        self, person: str, mutation: str, given: dict[str, Any], payload: str = "ContractChanged"
    ) -> Any:
        """Run one mutation with `given` as its input (fields in the schema's words); the id
        it created, read from its `payload` type; a refusal stops the demo."""
        name = f"{mutation[0].upper()}{mutation[1:]}Input"
        selection = f"{ANSWER} ... on {payload} {{ created }}"
        query = f"mutation($input: {name}!) {{ {mutation}(input: $input) {{ {selection} }} }}"
        answer = self.graphql(person, query, input=self.typed(name, given))[mutation]
        if "code" in answer:
            raise RuntimeError(f"{mutation} as {person}: {answer['code']} {answer['message']}")
        return answer.get("created")

    def typed(self, input_type: str, given: dict[str, Any]) -> dict[str, Any]:
        """`given` with each value of a closed set as its GraphQL enum value."""
        if not self.fields:
            self.fields = input_fields()
        kinds = self.fields.get(input_type, {})
        typed: dict[str, Any] = {}
        for name, value in given.items():
            kind = kinds.get(name, {})
            if kind.get("kind") == "ENUM" and isinstance(value, str):
                value = value.upper()
            elif kind.get("kind") == "INPUT_OBJECT" and isinstance(value, dict):
                value = self.typed(kind["name"], value)
            elif kind.get("kind") == "INPUT_OBJECT" and isinstance(value, list):
                value = [self.typed(kind["name"], item) for item in value]
            typed[name] = value
        return typed


def build(demo: Demo) -> dict[str, Any]:
    """The whole story in the method's order: meeting, refinement, advice, obligations, an
    assumption, risk, prioritization, delivery and the recovery of a missed target on a top
    priority (its sponsor told; the contract's health moving with it), a baseline, a
    refinement that flags what rested on the old terms, and a risk left unacknowledged until
    its deadline warns."""
    e = "ExpectationChanged"
    contract = demo.command("am", "openContract", {
        "clientOrganisation": CLIENT, "providerOrganisation": "Contoso Managed Services",
        "title": TITLE, "startsOn": "2027-01-01",
        "name": PROVIDER["am"][0], "role": "provider_account_manager", "email": "ann.marsh@contoso.example",
    })  # fmt: skip
    demo.command("am", "joinContract", {
        "contractId": contract, "personId": "lead", "name": PROVIDER["lead"][0],
        "role": PROVIDER["lead"][1], "email": "lee.dunn@contoso.example",
    })  # fmt: skip
    demo.command("am", "joinContract", {
        "contractId": contract, "personId": SPONSOR[0], "name": SPONSOR[1],
        "role": "client_sponsor", "email": "eve.carter@northwind.example",
    })  # fmt: skip
    for person, (name, _) in DECISION_MAKERS.items():  # each side appoints its own people
        demo.command(SPONSOR[0], "joinContract", {
            "contractId": contract, "personId": person, "name": name,
            "role": "client_decision_maker", "email": f"{person}@northwind.example",
        })  # fmt: skip
    question = demo.command("am", "askQuestion", {
        "contractId": contract, "askedOf": "cso", "businessArea": "stores",
        "text": "What happens in a store when the tills stop?",
    })  # fmt: skip
    demo.command("cso", "answerQuestion", {
        "contractId": contract, "questionId": question,
        "answer": "Queues form within minutes and customers leave.",
    })  # fmt: skip

    expectations: list[tuple[str, str]] = []
    for proposer, text, area, why, terms in EXPECTATIONS:
        proposed = demo.command(proposer, "proposeExpectation", {
            "contractId": contract, "text": text, "businessArea": area, "whyItMatters": why,
        }, e)  # fmt: skip
        demo.command("am", "refineExpectation", {
            "expectationId": proposed, "text": text, "terms": terms,
            "reason": "made specific and measurable in the meeting", "expectedVersion": 1,
        }, e)  # fmt: skip
        expectations.append((proposed, area))
    for proposer, text, area, why, original in DUPLICATES:
        duplicate = demo.command(proposer, "proposeExpectation", {
            "contractId": contract, "text": text, "businessArea": area, "whyItMatters": why,
        }, e)  # fmt: skip
        demo.command("am", "mergeExpectations", {
            "expectationId": expectations[original][0], "mergedExpectationId": duplicate,
            "reason": "the same need in other words",
        }, e)  # fmt: skip

    advice = [(4, "critical", "feasible", "Warehouse downtime stops shipments: our experience says this matters most."),
              (8, "critical", "stretch", "99.8% for tills needs a spare in each store."),
              (7, "medium", "feasible", "A quarterly survey is enough to see a trend.")]  # fmt: skip
    for index, importance, feasibility, text in advice:
        demo.command("am", "giveProviderAdvice", {
            "expectationId": expectations[index][0], "advice": text,
            "importance": importance, "feasibility": feasibility,
        }, e)  # fmt: skip
    commitments = [(i, "we can meet this") for i in range(6)]
    # The tills are a stretch (see the advice): committed to, on the condition the advice names.
    commitments.append((8, "with a spare till in each store"))
    for index, note in commitments:
        demo.command("am", "commitToExpectation", {"expectationId": expectations[index][0], "note": note}, e)  # fmt: skip

    obligations = [("Remote access to the store network", "cio", [8, 9]),
                   ("Named contact for each warehouse", "coo", [4, 5]),
                   ("Monthly headcount forecast", "chro", [6])]  # fmt: skip
    made = [
        demo.command(
            "am",
            "proposeObligation",
            {
                "contractId": contract,
                "what": what,
                "neededFrom": needed_from,
                "dueOn": "2027-01-15",
                "dependsOn": [expectations[i][0] for i in depends],
            },
            "ObligationChanged",
        )
        for what, needed_from, depends in obligations
    ]
    o = "ObligationChanged"
    demo.command("cio", "acceptObligation", {"obligationId": made[0]}, o)
    demo.command("coo", "acceptObligation", {"obligationId": made[1]}, o)
    demo.command("chro", "declineObligation", {
        "obligationId": made[2],
        "reason": "forecasts are confidential; we will share monthly starters instead",
    }, o)  # fmt: skip

    risk = demo.command("am", "discloseRisk", {
        "contractId": contract, "kind": "preconditioning", "title": "Peak season load on tills",
        "description": "December trading doubles till traffic.", "likelihood": 3, "impact": 4,
        "affectedExpectations": [expectations[8][0]],
        "prepareFor": "slower till start-up on December Saturdays; a spare till per store is on standby",
    }, "RiskChanged")  # fmt: skip
    demo.command("cso", "acknowledgeRisk", {"riskId": risk}, "RiskChanged")
    demo.command("lead", "recordAssumption", {
        "contractId": contract, "text": "Stores keep their current tills until 2028",
        "why": "The till availability target was costed on the present fleet",
    })  # fmt: skip

    # The method's order: the decision makers rank before delivery is measured, so a miss on a
    # top corporate priority is flagged, and its sponsor told, as the contract runs.
    ranking = prioritize(demo, contract, [e for e, _ in expectations], dict(expectations))
    measured = {}
    for index, value in [(4, "99.7"), (8, "99.1"), (2, "25")]:
        measured[index] = demo.command("lead", "recordMeasurement", {
            "expectationId": expectations[index][0], "periodStart": "2027-01-01",
            "periodEnd": "2027-01-31", "value": value, "source": "January service report",
        }, e)  # fmt: skip
    health = {"before_recovery": health_score(demo, contract)}
    recovery = close_the_gap(demo, expectations[8][0], measured[8])
    health["after_recovery"] = health_score(demo, contract)
    baseline = sign_baseline(demo, contract)
    suspects = refine_after_signing(demo, contract, expectations[5][0])
    warning = warn_of_a_risk(demo, contract)
    health["now"] = health_score(demo, contract)
    return {
        "contract_id": contract,
        "expectations": len(expectations),
        "ranking": ranking,
        "notices": notices(demo, contract),  # the whole story's, counted last
        "recovery": recovery,
        "baseline": baseline,
        "suspects": suspects,
        "warning": warning,
        "health": health,
    }


HEALTH = "query($c: ID!) { contract(id: $c) { health { score } } }"


def health_score(demo: Demo, contract: str) -> int:
    score: int = demo.graphql("am", HEALTH, c=contract)["contract"]["health"]["score"]
    return score


SUSPECTS = "query($c: ID!) { suspects(contractId: $c) { kind itemId changes { field old new } } }"


def refine_after_signing(demo: Demo, contract: str, expectation: str) -> list[str]:
    """The client asks for faster fixes after the baseline was signed: the provider's
    commitment, the obligation that depends on the expectation and the baseline that holds it
    become suspect until reviewed. The kinds flagged."""
    demo.command("am", "refineExpectation", {
        "expectationId": expectation, "text": "Incidents are fixed fast",
        "terms": _terms("priority 1 resolution time", "at_most", "3", "hours", "ticket system report"),
        "reason": "the client's new stores trade longer hours",
    }, "ExpectationChanged")  # fmt: skip
    flags = demo.graphql("am", SUSPECTS, c=contract)["suspects"]
    return sorted(flag["kind"] for flag in flags)


RISK_DEADLINES = "query($c: ID!) { contract(id: $c) { risks { id deadline { state threshold } } } }"


def warn_of_a_risk(demo: Demo, contract: str) -> dict[str, Any]:
    """A risk the client has not acknowledged warns at 50% and 75% of its acknowledgement
    window and misses it at the end: the account manager sets a short window (so that the
    warnings come while the demo runs; a real contract would say days), the deadline worker
    raises them, and the demo waits for the last so that the story is settled when it ends."""
    demo.command("am", "setDeadlinePolicy", {
        "contractId": contract, "thresholds": [50, 75], "acknowledgementWindow": "PT4S",
    })  # fmt: skip
    risk = demo.command("am", "discloseRisk", {
        "contractId": contract, "kind": "problem", "title": "Till vendor ends firmware support",
        "description": "The till vendor stops firmware updates in March.",
        "likelihood": 4, "impact": 3, "prepareFor": "a firmware freeze from March",
    }, "RiskChanged")  # fmt: skip
    deadline = time.monotonic() + 20
    state: dict[str, Any] = {"state": "ON_TRACK", "threshold": None}
    while time.monotonic() < deadline:
        risks = demo.graphql("am", RISK_DEADLINES, c=contract)["contract"]["risks"]
        state = next(r["deadline"] for r in risks if r["id"] == risk)
        if state["state"] == "MISSED":  # its last warning: the story is settled
            break
        time.sleep(0.2)
    return {"risk_id": risk, "state": state["state"], "threshold": state["threshold"]}


BASELINES = """query($c: ID!) { baselines(contractId: $c) { id complete contentHash
  content signatures { printedName meaning } } }"""


def sign_baseline(demo: Demo, contract: str) -> dict[str, Any]:
    """The agreed set frozen as a baseline once the ranking is published, signed by the
    client's sponsor and the provider's account manager (each with a fresh login)."""
    b = "BaselineChanged"
    baseline = demo.command("am", "proposeBaseline", {
        "contractId": contract, "title": "Agreed scope after the first vote",
    }, b)  # fmt: skip
    demo.command(SPONSOR[0], "signBaseline", {"baselineId": baseline, "meaning": "approved"}, b)
    demo.command("am", "signBaseline", {"baselineId": baseline, "meaning": "responsible"}, b)
    [shown] = [
        x for x in demo.graphql("am", BASELINES, c=contract)["baselines"] if x["id"] == baseline
    ]
    return {
        "id": baseline,
        "complete": shown["complete"],
        "content_hash": shown["contentHash"],
        "expectations": len(shown["content"]["expectations"]),
        "ranked": shown["content"]["ranking"] is not None,
        "signatures": len(shown["signatures"]),
    }


RECOVERY_STEPS = [
    {"action": "Put a spare till in every store", "owner": "lead", "due_on": "2027-02-15"},
    {"action": "Check each spare before trading starts", "owner": "cso", "due_on": "2027-02-28"},
]


def close_the_gap(demo: Demo, expectation: str, measurement: str) -> dict[str, Any]:
    """The missed till target: gap acknowledged, plan agreed (dated steps, a revised target),
    each step completed."""
    e = "ExpectationChanged"
    gap = demo.command("am", "acknowledgeGap", {
        "expectationId": expectation, "measurementId": measurement,
        "cause": "Two stores ran without their spare till over the January sales",
    }, e)  # fmt: skip
    steps = [
        {"action": s["action"], "owner": s["owner"], "dueOn": s["due_on"]} for s in RECOVERY_STEPS
    ]
    demo.command("am", "agreeRecoveryPlan", {
        "expectationId": expectation, "gapId": gap, "steps": steps, "agreedWith": "cso",
        "revisedTarget": "99.5",
    }, e)  # fmt: skip
    for number, step in enumerate(RECOVERY_STEPS, start=1):
        demo.command(step["owner"], "completeRecoveryStep", {
            "expectationId": expectation, "gapId": gap, "step": number, "note": "done",
        }, e)  # fmt: skip
    return {"expectation_id": expectation, "gap_id": gap, "steps": len(RECOVERY_STEPS)}


DELIVERIES = """query($c: ID!, $after: String) { deliveries(contractId: $c, first: 100, after: $after)
  { edges { node { noticeId } } pageInfo { hasNextPage endCursor } } }"""
NOTICES_WAIT_SECONDS = 15
SETTLED_SECONDS = 0.5
SHOWN = """query($id: ID!) { prioritization(id: $id) { expectations voters
  ranking { entries { expectationId } } } }"""


def notices(demo: Demo, contract: str) -> int:
    """How many notices the story produced: they are queued a moment after the events that
    cause them, so counted once the count stays the same for SETTLED_SECONDS (at most
    NOTICES_WAIT_SECONDS)."""
    deadline = time.monotonic() + NOTICES_WAIT_SECONDS
    counted = -1
    while True:
        count = delivered_so_far(demo, contract)
        if (count and count == counted) or time.monotonic() > deadline:
            return count
        counted = count
        time.sleep(SETTLED_SECONDS)


def delivered_so_far(demo: Demo, contract: str) -> int:
    count, after = 0, None
    while True:  # every page
        page = demo.graphql("am", DELIVERIES, c=contract, after=after)["deliveries"]
        count += len(page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return count
        after = page["pageInfo"]["endCursor"]


def prioritize(
    demo: Demo, contract: str, expectation_ids: list[str], area: dict[str, str]
) -> list[str]:
    """Each decision maker ranks their own department first, then what keeps the business
    trading (the tills, then the warehouse), then the rest as they were proposed; the votes
    become one ranking, those two on top."""
    p = "PrioritizationChanged"
    # The ranking service learns the contract from its events; the story's commands before
    # give it time, and a session opened on less than the whole ballot would be a wrong story.
    session = demo.command("am", "openPrioritization", {"contractId": contract, "method": "schulze"}, p)  # fmt: skip
    opened = demo.graphql("am", SHOWN, id=session)["prioritization"]
    if len(opened["expectations"]) != len(expectation_ids) or len(opened["voters"]) != len(
        DECISION_MAKERS
    ):
        raise RuntimeError(f"the vote opened on less than the whole contract: {opened}")
    trading = [expectation_ids[i] for i in TRADING]
    shared_view = trading + [e for e in expectation_ids if e not in trading]
    for voter, (_, department) in DECISION_MAKERS.items():
        own = [e for e in expectation_ids if area[e] == department]
        others = [e for e in shared_view if area[e] != department]
        demo.command(voter, "castVote", {"prioritizationId": session, "ranking": own + others}, p)
    demo.command("am", "closePrioritization", {"prioritizationId": session}, p)
    shown = demo.graphql("am", SHOWN, id=session)["prioritization"]
    return [entry["expectationId"] for entry in shown["ranking"]["entries"]]


def run(base_url: str, settings: Settings) -> dict[str, Any]:
    """Load the demo through the GraphQL API at base_url: `accord dev`, or the gateway of the
    distributed mode (`accord serve gateway`), alike."""
    with httpx.Client(timeout=30) as http:
        summary = build(Demo(http, settings, f"{base_url}/graphql"))
    summary["verification"] = verify_store(settings, summary["contract_id"])
    console.print(
        f"demo contract {summary['contract_id']}: {summary['expectations']} expectations, "
        f"corporate ranking published, a missed target recovered in"
        f" {summary['recovery']['steps']} steps, {summary['notices']} notices sent, a baseline"
        f" signed by {summary['baseline']['signatures']}"
        f" ({'complete' if summary['baseline']['complete'] else 'incomplete'})"
    )
    health, warning = summary["health"], summary["warning"]
    console.print(
        f"health {health['before_recovery']} before the gap's recovery, {health['after_recovery']}"
        f" after, {health['now']} now; suspect after the refinement:"
        f" {', '.join(summary['suspects'])}; the unacknowledged risk's deadline: {warning['state']}"
    )
    console.print(summary["verification"]["said"], highlight=False, soft_wrap=True)
    return summary


DEMO_CONTRACTS = """query($client: String!) { contracts(first: 100, clientOrganisation: $client) {
  edges { node { id title } } } }"""


def already_loaded(base_url: str, settings: Settings) -> str | None:
    """The id of a demo contract the account manager already has at base_url, if any."""
    with httpx.Client(timeout=30) as http:
        demo = Demo(http, settings, f"{base_url}/graphql")
        edges = demo.graphql("am", DEMO_CONTRACTS, client=CLIENT)["contracts"]["edges"]
    return next((e["node"]["id"] for e in edges if e["node"]["title"] == TITLE), None)


def verify_store(settings: Settings, contract: str) -> dict[str, Any]:
    """What `accord audit verify` finds in the services' stores of the Accord the demo loaded
    (every event, not the demo's only), reached as that command reaches them (the named
    database, or the running `accord dev`'s server on the data folder). A store that does not
    hold the demo contract is not the one it loaded: then nothing is claimed, and the command
    to run there is said."""
    from accord.audit import AUDITED
    from accord.database import database
    from shared.audit import store
    from shared.audit.keys import NoSigningKey, signing_key

    command = "accord audit verify"
    unverified = {"verified": None, "command": command}
    if not settings.database_url and not (Path(settings.data_dir) / "postgres").exists():
        return {**unverified, "said": f"store not reachable from here: run `{command}` there"}
    trusted = []
    with contextlib.suppress(NoSigningKey):
        trusted.append(signing_key(settings, generate=False).public_key())
    services: dict[str, Any] = {}
    held = 0
    with (
        database(settings, share=True) as ready,
        psycopg.connect(ready.database_url) as conn,
    ):
        for service in AUDITED:
            held += sum(1 for e in store.entries(conn, service) if e.contract_id == contract)
            report = store.audit(conn, service, trusted)
            if report.events:
                services[service] = {
                    "events": report.events,
                    "checkpoints": report.checkpoints,
                    "findings": [f.line() for f in report.findings],
                }
    if not held:
        return {**unverified, "said": f"this store does not hold the demo: run `{command}`"}
    findings = [line for s in services.values() for line in s["findings"]]
    counted = ", ".join(f"{name} {s['events']} events" for name, s in services.items())
    said = (
        f"store verified ({counted}): every chain and checkpoint holds"
        if not findings
        else f"store TAMPERED ({counted}): {len(findings)} finding(s), first {findings[0]}"
    )
    return {"verified": not findings, "command": command, "services": services, "said": said}
