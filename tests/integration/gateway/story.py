"""One outsourcing contract's life as the services would publish it: envelopes built by hand from
the published contracts, each aggregate's versions counted, one minute between events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from shared.envelope import Envelope
from shared.event_ids import event_id
from shared.schemas import registry
from shared.schemas.baseline_content import content_hash

AMIRA = "amira.khan@northgate.example"  # provider account manager
SAM = "sam.osei@northgate.example"  # provider delivery lead
LI = "li.wei@harbour.example"  # client decision maker, warehouse
TOM = "tom.okafor@harbour.example"  # client decision maker, transport
OLIVE = "olive.berg@harbour.example"  # auditor, who later leaves
SCHEDULER = "accord-scheduler"  # raises deadline warnings

ROLES = {
    AMIRA: "provider_account_manager",
    SAM: "provider_delivery_lead",
    LI: "client_decision_maker",
    TOM: "client_decision_maker",
    OLIVE: "auditor",
    SCHEDULER: "scheduler",
}

SCANNER_TERMS = {
    "metric": "Priority-1 scanner incidents resolved within 4 hours",
    "comparison": "at_least",
    "target": "95",
    "target_upper": None,
    "unit": "percent of incidents",
    "deadline": None,
    "recurrence": "monthly",
    "measurement_method": "Service desk ticket export, resolved minus logged time",
    "measured_by": "Client service management office",
}
REPORT_TERMS = {
    "metric": "Working days from month end to the cost report",
    "comparison": "at_most",
    "target": "5",
    "target_upper": None,
    "unit": "working days",
    "deadline": None,
    "recurrence": "monthly",
    "measurement_method": "Date the report reaches the finance mailbox",
    "measured_by": "Client finance",
}


@dataclass
class Ids:
    """The ids of one story's aggregates (fresh for every story, so tests stay apart)."""

    contract: str = field(default_factory=lambda: str(uuid4()))
    scanners: str = field(default_factory=lambda: str(uuid4()))
    report: str = field(default_factory=lambda: str(uuid4()))
    duplicate: str = field(default_factory=lambda: str(uuid4()))
    network: str = field(default_factory=lambda: str(uuid4()))
    trucks: str = field(default_factory=lambda: str(uuid4()))
    question: str = field(default_factory=lambda: str(uuid4()))
    access: str = field(default_factory=lambda: str(uuid4()))
    data_feed: str = field(default_factory=lambda: str(uuid4()))
    firmware: str = field(default_factory=lambda: str(uuid4()))
    outage: str = field(default_factory=lambda: str(uuid4()))
    lesson: str = field(default_factory=lambda: str(uuid4()))
    preventive: str = field(default_factory=lambda: str(uuid4()))
    may: str = field(default_factory=lambda: str(uuid4()))
    may_report: str = field(default_factory=lambda: str(uuid4()))
    june: str = field(default_factory=lambda: str(uuid4()))
    june_trucks: str = field(default_factory=lambda: str(uuid4()))
    gap: str = field(default_factory=lambda: str(uuid4()))
    first_session: str = field(default_factory=lambda: str(uuid4()))
    second_session: str = field(default_factory=lambda: str(uuid4()))
    baseline: str = field(default_factory=lambda: str(uuid4()))


class Story:
    """Builds envelopes in the order the services would publish them."""

    def __init__(self, ids: Ids | None = None, start: datetime | None = None) -> None:
        self.ids = ids or Ids()
        self.clock = start or datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
        self.versions: dict[str, int] = {}
        self.elicitation: list[Envelope] = []
        self.ranking: list[Envelope] = []

    def event(self, service: str, event: str, subject: str, by: str, /, **data: Any) -> Envelope:
        spec = registry.latest(service, event)
        self.versions[subject] = self.versions.get(subject, 0) + 1
        self.clock += timedelta(minutes=1)
        version = self.versions[subject]
        envelope = Envelope(
            id=event_id(UUID(subject), version),
            type=spec.ce_type,
            source=f"/accord/{service}",
            subject=subject,
            time=self.clock,
            key=self.ids.contract,
            data=spec.to_data({"contract_id": self.ids.contract, **data}),
            actor_id=by,
            actor_role=ROLES[by],
            correlation_id=str(uuid4()),
            sequence=version,
        )
        (self.elicitation if service == "elicitation" else self.ranking).append(envelope)
        return envelope

    def elicit(self, event: str, subject: str, by: str, /, **data: Any) -> Envelope:
        return self.event("elicitation", event, subject, by, **data)

    def rank(self, event: str, session: str, by: str, /, **data: Any) -> Envelope:
        return self.event("ranking", event, session, by, **data)


def elicitation_story(story: Story) -> Story:
    """Open, staff, discover, elicit, refine, merge, decide, oblige, disclose, learn, deliver."""
    i, c = story.ids, story.ids.contract
    story.elicit(
        "ContractOpened", c, AMIRA, client_organisation="Harbour Logistics plc",
        provider_organisation="Northgate IT Services", title="Managed service desk, 2025-2028",
        starts_on="2025-04-01", opened_by=AMIRA,
    )  # fmt: skip
    for person, name, side in [
        (AMIRA, "Amira Khan", "provider"), (SAM, "Sam Osei", "provider"),
        (LI, "Li Wei", "client"), (TOM, "Tom Okafor", "client"), (OLIVE, "Olive Berg", "client"),
    ]:  # fmt: skip
        story.elicit(
            "ParticipantJoined", c, AMIRA, person_id=person, name=name, side=side,
            role=ROLES[person], email=person, phone="+44 20 7946 0000", added_by=AMIRA,
        )  # fmt: skip
    story.elicit(
        "ParticipantLeft", c, OLIVE, person_id=OLIVE, reason="Audit finished", removed_by=OLIVE
    )
    # A question is an aggregate of its own (questions asked before were on the contract).
    story.elicit(
        "QuestionAsked", i.question, AMIRA, question_id=i.question, asked_of=LI,
        business_area="Warehouse operations",
        text="What happens when a scanner cannot reach the WMS?", asked_by=AMIRA,
    )  # fmt: skip
    story.elicit(
        "QuestionAnswered", i.question, AMIRA, question_id=i.question,
        answer="Pickers stop; the evening trucks leave half empty.", answered_by=LI,
        recorded_by=AMIRA,
    )  # fmt: skip

    def propose(expectation: str, by: str, text: str, area: str) -> None:
        story.elicit(
            "ExpectationProposed", expectation, by, expectation_id=expectation, text=text,
            business_area=area, why_it_matters="It stops the evening dispatch",
            from_answers=[i.question], proposed_by=by,
        )  # fmt: skip

    def refine(expectation: str, revision: int, text: str, terms: dict[str, Any]) -> None:
        missing = [k for k in ("target",) if terms.get(k) is None]
        story.elicit(
            "ExpectationRefined", expectation, AMIRA, expectation_id=expectation,
            revision=revision, text=text, terms=terms, reason=f"Meeting round {revision}",
            refined_by=AMIRA, measurable=not missing, missing_for_measurable=missing,
        )  # fmt: skip

    propose(i.scanners, LI, "Scanners must be fixed fast", "Warehouse operations")
    propose(i.report, TOM, "Cost report on time", "Finance")
    propose(i.duplicate, TOM, "Fix scanners quickly", "Transport")
    propose(i.network, TOM, "A faster network", "Transport")
    propose(i.trucks, LI, "Truck tablets always work", "Transport")
    refine(i.scanners, 2, "P1 scanner incidents resolved within 4 hours", SCANNER_TERMS)
    refine(i.report, 2, "The cost report arrives promptly", {**REPORT_TERMS, "target": None})
    refine(i.report, 3, "The cost report within 5 working days", REPORT_TERMS)
    refine(i.trucks, 2, "Truck tablets up 99% of hours", {
        **SCANNER_TERMS, "metric": "Tablet availability", "target": "99", "unit": "percent",
    })  # fmt: skip
    merged = {
        "kept_expectation_id": i.scanners, "merged_expectation_id": i.duplicate,
        "proposers": [LI, TOM], "reason": "Warehouse and transport asked the same",
        "merged_by": AMIRA,
    }  # fmt: skip
    story.elicit("ExpectationsMerged", i.scanners, AMIRA, **merged)
    story.elicit("ExpectationsMerged", i.duplicate, AMIRA, **merged)
    story.elicit(
        "ProviderAdviceGiven", i.scanners, SAM, expectation_id=i.scanners, revision=2,
        importance="high", feasibility="stretch", advice="Feasible with spare scanners on site",
        advised_by=SAM,
    )  # fmt: skip
    story.elicit(
        "ExpectationCommitted", i.scanners, AMIRA, expectation_id=i.scanners, revision=2,
        note="Two spare scanners per warehouse", committed_by=AMIRA,
    )  # fmt: skip
    story.elicit(
        "ExpectationDeclined", i.report, AMIRA, expectation_id=i.report, revision=3,
        reason="Five days needs the ledger feed first", declined_by=AMIRA,
    )  # fmt: skip
    refine(i.report, 4, "The cost report within 7 working days", {**REPORT_TERMS, "target": "7"})
    story.elicit(
        "ExpectationCommitted", i.report, AMIRA, expectation_id=i.report, revision=4,
        note="", committed_by=AMIRA,
    )  # fmt: skip
    story.elicit(
        "ExpectationCommitted", i.trucks, AMIRA, expectation_id=i.trucks, revision=2,
        note="", committed_by=AMIRA,
    )  # fmt: skip
    story.elicit(
        "ExpectationWithdrawn", i.network, TOM, expectation_id=i.network,
        reason="Covered by the group network contract", withdrawn_by=TOM,
    )  # fmt: skip

    story.elicit(
        "ObligationProposed", i.access, AMIRA, obligation_id=i.access,
        what="Remote access to the WMS", needed_from=LI, due_on="2025-05-01",
        depends_on=[i.scanners], proposed_by=AMIRA,
    )  # fmt: skip
    story.elicit("ObligationAccepted", i.access, LI, obligation_id=i.access, accepted_by=LI)
    story.elicit(
        "ObligationBreached", i.access, SAM, obligation_id=i.access,
        what_happened="No access by the date", impact="Engineers on site", declared_by=SAM,
    )  # fmt: skip
    story.elicit(
        "ObligationFulfilled", i.access, SAM, obligation_id=i.access, note="VPN issued",
        confirmed_by=SAM,
    )  # fmt: skip
    story.elicit(
        "ObligationProposed", i.data_feed, AMIRA, obligation_id=i.data_feed,
        what="A nightly ledger feed", needed_from=TOM, due_on="2025-06-01",
        depends_on=[i.report, i.scanners], proposed_by=AMIRA,
    )  # fmt: skip
    story.elicit(
        "ObligationDeclined", i.data_feed, TOM, obligation_id=i.data_feed,
        reason="Finance cannot export nightly", declined_by=TOM,
    )  # fmt: skip

    story.elicit(
        "RiskDisclosed", i.firmware, SAM, risk_id=i.firmware, kind="preconditioning",
        title="Scanner firmware end of support", description="Faults may rise after June",
        likelihood=3, impact=4, affected_expectations=[i.scanners],
        prepare_for="Budget for 40 new scanners", disclosed_by=SAM,
    )  # fmt: skip
    story.elicit("RiskAcknowledged", i.firmware, LI, risk_id=i.firmware, acknowledged_by=LI)
    story.elicit("RiskAcknowledged", i.firmware, TOM, risk_id=i.firmware, acknowledged_by=TOM)
    for action in ("Rolled back the firmware", "Kept spare scanners charged"):
        story.elicit(
            "RemedialActionTaken", i.firmware, SAM, risk_id=i.firmware, action=action,
            taken_by=SAM,
        )  # fmt: skip
    story.elicit(
        "RiskResolved", i.firmware, AMIRA, risk_id=i.firmware,
        resolution="Scanners replaced with a supported model", resolved_by=AMIRA,
    )  # fmt: skip
    story.elicit(
        "RiskDisclosed", i.outage, SAM, risk_id=i.outage, kind="problem",
        title="WMS outages at night", description="The WMS restarts at 02:00",
        likelihood=2, impact=2, affected_expectations=[], prepare_for="", disclosed_by=SAM,
    )  # fmt: skip
    story.elicit(
        "LessonLearned", i.lesson, SAM, lesson_id=i.lesson,
        lesson="Pilot firmware in one warehouse first", risk_ids=[i.firmware],
        expectation_ids=[i.scanners], learned_by=SAM,
    )  # fmt: skip
    story.elicit(
        "PreventiveActionPlanned", i.lesson, AMIRA, lesson_id=i.lesson, action_id=i.preventive,
        action="Add a pilot stage to the change procedure", owner=SAM, due_on="2025-09-30",
        planned_by=AMIRA,
    )  # fmt: skip

    def measure(
        expectation: str, measurement: str, revision: int, value: str, met: bool, short: str
    ) -> None:
        story.elicit(
            "MeasurementRecorded", expectation, SAM, expectation_id=expectation,
            measurement_id=measurement, revision=revision, period_start="2025-05-01",
            period_end="2025-05-31", value=value, unit="percent of incidents",
            source="Ticket export, May", met=met, shortfall=short, recorded_by=SAM,
        )  # fmt: skip

    measure(i.scanners, i.may, 2, "91.5", False, "3.5")
    measure(i.report, i.may_report, 4, "6", True, "0")
    measure(i.trucks, i.june_trucks, 2, "97", False, "2")
    story.elicit(
        "GapAcknowledged", i.scanners, AMIRA, expectation_id=i.scanners, gap_id=i.gap,
        measurement_id=i.may, shortfall="3.5", unit="percent of incidents",
        cause="Two engineers left; night cover was thin", acknowledged_by=AMIRA,
    )  # fmt: skip
    story.elicit(
        "RecoveryPlanAgreed", i.scanners, AMIRA, expectation_id=i.scanners, gap_id=i.gap,
        steps=[
            {"step": 1, "action": "Hire two night engineers", "owner": SAM, "due_on": "2025-07-15"},
            {"step": 2, "action": "Approve site badges", "owner": LI, "due_on": "2025-07-22"},
        ],
        revised_target="92", revised_target_upper=None, revision=3, agreed_with=LI,
        agreed_by=AMIRA,
    )  # fmt: skip
    story.elicit(
        "RecoveryStepCompleted", i.scanners, SAM, expectation_id=i.scanners, gap_id=i.gap,
        step=1, note="Both started on 14 July", completed_by=SAM,
    )  # fmt: skip
    story.elicit(
        "MeasurementRecorded", i.scanners, SAM, expectation_id=i.scanners, measurement_id=i.june,
        revision=3, period_start="2025-06-01", period_end="2025-06-30", value="90",
        unit="percent of incidents", source="Ticket export, June", met=False, shortfall="2",
        recorded_by=SAM,
    )  # fmt: skip
    baselined(story)
    deadlines_warned(story)
    assumed(story)
    return story


def assumed(story: Story) -> None:
    """The delivery lead records an assumption the scanners' target rests on."""
    assumption = str(uuid4())
    story.elicit(
        "AssumptionRecorded", assumption, SAM, assumption_id=assumption, text="The scanners stay on firmware 4",
        why="The resolution target was costed on it", recorded_by=SAM,
    )  # fmt: skip


def deadlines_warned(story: Story) -> None:
    """The account manager sets the contract's deadline policy; the scheduler warns of the
    accepted access obligation at 75% of its time, then of its missed due date."""
    i = story.ids
    story.elicit(
        "DeadlinePolicySet", i.contract, AMIRA, thresholds=[50, 75], acknowledgement_window="P2D",
        set_by=AMIRA,
    )  # fmt: skip
    warned = {
        "kind": "obligation", "item_id": i.access, "step": None, "owner": LI,
        "starts_at": "2025-04-02T09:00:00+00:00", "due_at": "2025-04-16T00:00:00+00:00",
    }  # fmt: skip
    story.elicit("DeadlineApproaching", str(uuid4()), SCHEDULER, threshold=75, **warned)
    story.elicit("DeadlineMissed", str(uuid4()), SCHEDULER, **warned)


def baselined(story: Story) -> None:
    """A baseline of the agreed set, signed by two, then revoked."""
    i = story.ids
    content = {
        "contract": {
            "contract_id": i.contract, "version": 9, "title": "Managed service desk, 2025-2028",
            "client_organisation": "Harbour Logistics plc",
            "provider_organisation": "Northgate IT Services", "starts_on": "2025-04-01",
        },
        "participants": [
            {"person_id": AMIRA, "name": "Amira Khan", "role": ROLES[AMIRA], "side": "provider"},
            {"person_id": LI, "name": "Li Wei", "role": ROLES[LI], "side": "client"},
        ],
        "expectations": [{
            "expectation_id": i.scanners, "version": 4, "revision": 2, "text": "Scanners fixed",
            "business_area": "Warehouse", "terms": SCANNER_TERMS,
        }],
        "obligations": [], "risks": [], "ranking": None,
    }  # fmt: skip
    digest = content_hash(content)
    story.elicit(
        "BaselineProposed", i.baseline, AMIRA, baseline_id=i.baseline, title="Scope",
        content=content, content_hash=digest,
        required_roles=["client_sponsor", "provider_account_manager"], proposed_by=AMIRA,
    )  # fmt: skip
    for signer, name, meaning in [(LI, "Li Wei", "reviewed"), (AMIRA, "Amira Khan", "approved")]:
        story.elicit(
            "BaselineSigned", i.baseline, signer, baseline_id=i.baseline, signer=signer,
            printed_name=name, role=ROLES[signer], meaning=meaning,
            signed_at=story.clock.isoformat(), authenticated_at=story.clock.isoformat(),
            content_hash=digest, complete=False,
        )  # fmt: skip
    story.elicit(
        "BaselineRevoked", i.baseline, AMIRA, baseline_id=i.baseline, reason="Renegotiated",
        revoked_by=AMIRA,
    )  # fmt: skip


def _published(
    story: Story, session: str, ranking: list[str], voters: dict[str, list[str]]
) -> None:
    scores = {e: len(ranking) - n for n, e in enumerate(ranking)}
    story.rank(
        "CorporatePrioritiesPublished", session, AMIRA, ranking=ranking, method="borda",
        result={
            "method": "borda", "ranking": ranking, "scores": scores,
            "pairwise": {a: {b: 1 for b in ranking if b != a} for a in ranking}, "ties": [],
            "voters": len(voters),
        },
        agreement={
            "concordance": 0.75, "distances": {v: 0.25 for v in voters}, "furthest": [],
            "spread": {e: 0.5 for e in ranking}, "most_contested": ranking,
        },
        turnout={"voted": len(voters), "eligible": 2},
        advice={e: (["Feasible with spare scanners"] if n == 0 else []) for n, e in enumerate(ranking)},
    )  # fmt: skip


def ranking_story(story: Story) -> Story:
    """Two sessions; the second re-prioritizes, so it sets the corporate priorities."""
    i = story.ids
    first, second = i.first_session, i.second_session
    story.rank(
        "PrioritizationOpened", first, AMIRA, expectations=[i.scanners, i.report],
        voters=[LI, TOM], method="borda", dots=None, closes_at=None, opened_by=AMIRA,
    )  # fmt: skip
    story.rank("VoteCast", first, LI, voter=LI, ranking=[i.report, i.scanners], dots=None)
    story.rank("VoteCast", first, TOM, voter=TOM, ranking=[i.scanners, i.report], dots=None)
    story.rank("VoteCast", first, LI, voter=LI, ranking=[i.scanners, i.report], dots=None)
    story.rank("PrioritizationClosed", first, AMIRA, closed_by=AMIRA, voted=2, eligible=2)
    _published(story, first, [i.scanners, i.report], {LI: [], TOM: []})
    three = [i.report, i.scanners, i.trucks]
    story.rank(
        "PrioritizationOpened", second, AMIRA, expectations=three, voters=[LI, TOM],
        method="borda", dots=None, closes_at="2025-07-01T17:00:00+00:00", opened_by=AMIRA,
    )  # fmt: skip
    story.rank("VoteCast", second, LI, voter=LI, ranking=three, dots=None)
    story.rank("VoteCast", second, TOM, voter=TOM, ranking=three, dots=None)
    story.rank("VoteWithdrawn", second, LI, voter=LI)
    story.rank("PrioritizationClosed", second, AMIRA, closed_by=AMIRA, voted=1, eligible=2)
    _published(story, second, three, {TOM: []})
    return story


def whole_story(ids: Ids | None = None) -> Story:
    return ranking_story(elicitation_story(Story(ids)))
