"""One contract as the notifications service sees it, and the events that happen on it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from services.notifications.policies import Policy, Trigger, default_policies, policy_for
from services.notifications.preferences import Preference
from services.notifications.snapshot import ContractSnapshot, ObligationState, Person
from services.notifications.source import SourceEvent

CONTRACT = UUID("6f1c2b9e-4d3a-4f5e-9a7b-1c2d3e4f5a6b")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

AMIRA = "amira"  # provider account manager, has an email
SAM = "sam"  # provider delivery lead
LI = "li"  # client decision maker, has an email
TOM = "tom"  # client decision maker, no email
GRACE = "grace"  # client sponsor, has an email
OLIVE = "olive"  # auditor

PEOPLE = {
    AMIRA: Person(AMIRA, "Amira Khan", "provider", "provider_account_manager", "amira@n.example"),
    SAM: Person(SAM, "Sam Osei", "provider", "provider_delivery_lead", "sam@n.example"),
    LI: Person(LI, "Li Wei", "client", "client_decision_maker", "li@h.example"),
    TOM: Person(TOM, "Tom Okafor", "client", "client_decision_maker", ""),
    GRACE: Person(GRACE, "Grace Hall", "client", "client_sponsor", "grace@h.example"),
    OLIVE: Person(OLIVE, "Olive Berg", "client", "auditor", "olive@h.example"),
}

SCANNERS = "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"  # proposed by Li
TRUCKS = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"  # proposed by Tom
REPORTS = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"  # proposed by Li, ranked third
OBLIGATION = "3b4c5d6e-7f8a-4b9c-8d1e-2f3a4b5c6d7e"

SNAPSHOT = ContractSnapshot(
    contract_id=CONTRACT,
    people=PEOPLE,
    proposers={SCANNERS: (LI,), TRUCKS: (TOM,), REPORTS: (LI,)},
    expectation_texts={
        SCANNERS: "Scanners fixed in 4h",
        TRUCKS: "Trucks tracked",
        REPORTS: "Reports",
    },
    obligations={
        OBLIGATION: ObligationState(OBLIGATION, "VPN access", LI, date(2026, 3, 15), AMIRA)
    },
    ranking=(TRUCKS, SCANNERS, REPORTS),
)

DEFAULTS = default_policies(timedelta(days=3), timedelta(days=1))


def policy(trigger: Trigger) -> Policy:
    return policy_for(trigger, DEFAULTS, {})


def event(name: str, event_id: str = "event-1", **data: Any) -> SourceEvent:
    return SourceEvent(event_id, name, NOW, {"contract_id": str(CONTRACT), **data})


def expectation_proposed(expectation_id: str = SCANNERS, by: str = LI) -> SourceEvent:
    return event(
        "ExpectationProposed", expectation_id=expectation_id, text="Scanners fixed fast",
        business_area="warehouse", why_it_matters="dispatch", from_answers=[], proposed_by=by,
    )  # fmt: skip


def obligation_proposed() -> SourceEvent:
    return event(
        "ObligationProposed", obligation_id=OBLIGATION, what="VPN access", needed_from=GRACE,
        due_on="2026-03-15", depends_on=[SCANNERS], proposed_by=AMIRA,
    )  # fmt: skip


def risk_disclosed(affected: list[str]) -> SourceEvent:
    return event(
        "RiskDisclosed", risk_id="4c5d6e7f-8a9b-4cad-9e2f-3a4b5c6d7e8f", kind="preconditioning",
        title="Firmware end of support", description="Faults may rise", likelihood=3, impact=4,
        affected_expectations=affected, prepare_for="replacing scanners",
        disclosed_by=SAM,
    )  # fmt: skip


def measurement(expectation_id: str, met: bool) -> SourceEvent:
    return event(
        "MeasurementRecorded", expectation_id=expectation_id,
        measurement_id="7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b", revision=2,
        period_start="2026-02-01", period_end="2026-02-28", value="91.5", unit="percent",
        source="export", met=met, shortfall="0" if met else "3.5", recorded_by=SAM,
    )  # fmt: skip


NO_PREFERENCES: dict[str, Preference] = {}
