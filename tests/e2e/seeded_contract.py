"""A contract with something of every kind on record, built through GraphQL only, and its ids.

The fuzz test draws ids from here, so that generated operations reach real records and not
only the NOT_FOUND path. Each step says who does it; when the rules of who may appoint whom
refuse one appointer, the next one who could is tried (the rules are the product's, not ours).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.accord_process import ask

# Person id -> role on the seeded contract. The opener is the provider's account manager.
PEOPLE = {
    "am": "provider_account_manager",
    "lead": "provider_delivery_lead",
    "ceo": "client_sponsor",
    "cfo": "client_decision_maker",
    "cio": "client_decision_maker",
    "audit": "auditor",
}
# Terms given as GraphQL enum values, not text.
ENUMS = {"comparison", "recurrence"}
OUTSIDER = "mallory"  # holds a valid token and no role on any contract

TERMS = {
    "metric": "availability",
    "comparison": "AT_LEAST",
    "target": "99.5",
    "unit": "percent",
    "recurrence": "MONTHLY",
    "measurementMethod": "monitoring report",
    "measuredBy": "provider",
}


@dataclass
class SeededContract:
    """The ids of everything on record, by kind, and who holds which role."""

    contract: str
    people: dict[str, str]
    ids: dict[str, list[str]] = field(default_factory=dict)
    refused_steps: list[str] = field(default_factory=list)

    def add(self, kind: str, value: object) -> None:
        if isinstance(value, str) and value and value not in self.ids.setdefault(kind, []):
            self.ids[kind].append(value)

    def all_ids(self) -> list[str]:
        return sorted({value for values in self.ids.values() for value in values})


def _payload(body: dict[str, Any], mutation: str) -> dict[str, Any] | None:
    """The success payload of a mutation, or None when it was refused."""
    answer = (body.get("data") or {}).get(mutation)
    if not isinstance(answer, dict) or "code" in answer or body.get("errors"):
        return None
    return answer


REFUSAL = "... on Refusal { code message }"


def seed_contract(url: str) -> SeededContract:
    """Open a contract and take it through every step of the method, through GraphQL."""
    opened = ask(
        url,
        "am",
        f"""mutation {{ openContract(input: {{clientOrganisation: "Northwind", title: "Fuzzed",
        providerOrganisation: "Contoso", startsOn: "2027-01-01", name: "Ann Marsh",
        role: PROVIDER_ACCOUNT_MANAGER, email: "am@contoso.example"}}) {{
        __typename ... on ContractChanged {{ created contract {{ id }} }} {REFUSAL} }} }}""",
    )
    payload = _payload(opened, "openContract")
    assert payload is not None, opened
    contract = payload["created"] or payload["contract"]["id"]
    seeded = SeededContract(contract=contract, people={"am": PEOPLE["am"]})
    seeded.add("contract", contract)

    def step(person: str, mutation: str, body: str, selection: str) -> dict[str, Any] | None:
        answer = ask(
            url,
            person,
            f"mutation {{ {mutation}(input: {{{body}}}) {{ __typename {selection} {REFUSAL} }} }}",
        )
        payload = _payload(answer, mutation)
        if payload is None:
            seeded.refused_steps.append(f"{person} {mutation}: {answer}")
        return payload

    def join(person: str, appointers: Sequence[str], *, every: bool = False) -> None:
        """Appointed by the first of `appointers` whom the rules let; by each of them in
        turn when `every` (an auditor is nominated by one side and confirmed by the other)."""
        role = PEOPLE[person]
        side = "provider" if role.startswith("provider") else "client"
        for appointer in appointers:
            joined = step(
                appointer,
                "joinContract",
                f'contractId: "{contract}", personId: "{person}", name: "{person.upper()}",'
                f' role: {role.upper()}, side: {side.upper()}, email: "{person}@example.com"',
                "... on ContractChanged { version }",
            )
            if joined is not None and not every:
                return

    join("lead", ["am"])
    join("ceo", ["am", "ceo"])  # the first client person may appoint themselves
    join("cfo", ["ceo", "am"])
    join("cio", ["ceo", "am"])
    join("audit", ["am", "ceo"], every=True)
    participants = ask(
        url, "am", "query($c: ID!) { contract(id: $c) { participants { personId role active } } }",
        c=contract,
    )["data"]["contract"]["participants"]  # fmt: skip
    seeded.people = {p["personId"]: p["role"].lower() for p in participants if p["active"]}
    c = f'contractId: "{contract}"'

    asked = step(
        "am",
        "askQuestion",
        f'{c}, askedOf: "cfo", businessArea: "finance", text: "What if a report is late?"',
        "... on ContractChanged { created }",
    )
    if asked and asked.get("created"):
        seeded.add("question", asked["created"])

    expectations = []
    for person, text in [("cfo", "Reports arrive on time"), ("cio", "Systems stay up"),
                         ("cfo", "Invoices are right")]:  # fmt: skip
        proposed = step(
            person,
            "proposeExpectation",
            f'{c}, text: "{text}", businessArea: "it", whyItMatters: "budget"',
            "... on ExpectationChanged { created expectation { id } }",
        )
        if proposed is not None:
            expectation = proposed.get("created") or (proposed.get("expectation") or {}).get("id")
            seeded.add("expectation", expectation)
            expectations.append(expectation)
    terms = ", ".join(
        f"{key}: {value}" if key in ENUMS else f'{key}: "{value}"' for key, value in TERMS.items()
    )
    for expectation in expectations[:2]:
        step(
            "am",
            "refineExpectation",
            f'expectationId: "{expectation}", text: "Systems are available", reason: "made'
            f' measurable", terms: {{{terms}}}',
            "... on ExpectationChanged { version }",
        )
    if len(expectations) >= 2:
        step(
            "am",
            "giveProviderAdvice",
            f'expectationId: "{expectations[0]}", advice: "matters most", importance: HIGH',
            "... on ExpectationChanged { version }",
        )
        step(
            "am",
            "commitToExpectation",
            f'expectationId: "{expectations[0]}", note: "we can"',
            "... on ExpectationChanged { version }",
        )
    obligation = step(
        "am",
        "proposeObligation",
        f'{c}, what: "Remote access", neededFrom: "cio", dueOn: "2027-01-15",'
        f" dependsOn: {_list(expectations[:1])}",
        "... on ObligationChanged { obligation { id } }",
    )
    if obligation is not None:
        seeded.add("obligation", (obligation.get("obligation") or {}).get("id"))
    risk = step(
        "am",
        "discloseRisk",
        f'{c}, kind: PRECONDITIONING, title: "Peak load", description: "December doubles'
        f' traffic", likelihood: 3, impact: 4, affectedExpectations: {_list(expectations[:1])},'
        f' prepareFor: "slower start-up"',
        "... on RiskChanged { risk { id } }",
    )
    if risk is not None:
        seeded.add("risk", (risk.get("risk") or {}).get("id"))
    if expectations:
        step(
            "lead",
            "recordMeasurement",
            f'expectationId: "{expectations[0]}", periodStart: "2027-01-01",'
            f' periodEnd: "2027-01-31", value: "98.1", source: "January report"',
            "... on ExpectationChanged { version }",
        )
        _read_trail(url, seeded)
        for measurement in seeded.ids.get("measurement", [])[:1]:
            step(
                "am",
                "acknowledgeGap",
                f'expectationId: "{expectations[0]}", measurementId: "{measurement}",'
                f' cause: "a disk failed"',
                "... on ExpectationChanged { version }",
            )
        _read_trail(url, seeded)
        for gap in seeded.ids.get("gap", [])[:1]:
            step(
                "am",
                "agreeRecoveryPlan",
                f'expectationId: "{expectations[0]}", gapId: "{gap}", agreedWith: "cfo",'
                f' steps: [{{action: "add a spare", owner: "lead", dueOn: "2027-03-01"}}]',
                "... on ExpectationChanged { version }",
            )
    step(
        "am",
        "recordLessonLearned",
        f'{c}, lesson: "Spares help", riskIds: {_list(seeded.ids.get("risk", []))},'
        f" expectationIds: {_list(expectations[:1])}",
        "... on ContractChanged { created }",
    )
    # One vote stays open; one with dots is closed, so that a ranking is published.
    for method, declared, ballot in [("BORDA", "", f"ranking: {_list(expectations[:2])}"),
                                     ("DOTS", "($dots: [DotsForInput!])", "dots: $dots")]:  # fmt: skip
        opened = step(
            "am",
            "openPrioritization",
            f"{c}, method: {method}" + (", dots: 5" if method == "DOTS" else ""),
            "... on PrioritizationChanged { prioritization { id } }",
        )
        session = ((opened or {}).get("prioritization") or {}).get("id")
        if session is None:
            continue
        seeded.add("prioritization", session)
        voted = ask(
            url,
            "cfo",
            f"""mutation{declared} {{ castVote(input: {{prioritizationId: "{session}",
            {ballot}}}) {{ __typename {REFUSAL} }} }}""",
            dots=[
                {"expectationId": e, "dots": n} for e, n in zip(expectations, [3, 2], strict=False)
            ],
        )
        if _payload(voted, "castVote") is None:
            seeded.refused_steps.append(f"cfo castVote: {voted}")
        if method == "DOTS":
            step(
                "am",
                "closePrioritization",
                f'prioritizationId: "{session}"',
                "... on PrioritizationChanged { version }",
            )
    _read_back(url, seeded)
    return seeded


def _list(ids: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in ids) + "]"


def _read_trail(url: str, seeded: SeededContract) -> None:
    """The ids the events carry (questions, measurements, gaps, lessons...), by kind."""
    trail = ask(
        url,
        "am",
        "query($c: ID!) { auditTrail(contractId: $c, first: 100) { edges { node { data } } } }",
        c=seeded.contract,
    )
    for edge in trail["data"]["auditTrail"]["edges"]:
        for key, value in edge["node"]["data"].items():
            if key.endswith("_id") and isinstance(value, str):
                seeded.add(key.removesuffix("_id"), value)


def _read_back(url: str, seeded: SeededContract) -> None:
    """The ids only reads show: notices, notifications, global ids; and the events' ids."""
    for _ in range(50):  # notices are queued a moment after the events that cause them
        _read_trail(url, seeded)
        notices = ask(url, "cfo", "{ notifications { edges { node { id } } } }")["data"]
        for notice in notices["notifications"]["edges"]:
            seeded.add("notification", notice["node"]["id"])
        deliveries = ask(
            url, "am", "query($c: ID!) { deliveries(contractId: $c) { edges { node { noticeId } } } }",
            c=seeded.contract,
        )  # fmt: skip
        for delivery in deliveries["data"]["deliveries"]["edges"]:
            seeded.add("notice", delivery["node"]["noticeId"])
        if notices["notifications"]["edges"] and seeded.ids.get("notice"):
            break
        time.sleep(0.1)
    contract = ask(
        url,
        "am",
        """query($c: ID!) { contract(id: $c) { globalId expectations { globalId }
        prioritizations { globalId } } }""",
        c=seeded.contract,
    )["data"]["contract"]
    seeded.add("global", contract["globalId"])
    for kind in ("expectations", "prioritizations"):
        for item in contract[kind]:
            seeded.add("global", item["globalId"])
