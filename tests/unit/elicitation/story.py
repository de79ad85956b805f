"""A contract in the expectations meeting, for the elicitation tests: its people, and helpers
that run commands as one of them (with provenance) and check refusals store nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest

from services.elicitation.application import Elicitation
from services.elicitation.errors import ElicitationError
from shared.commands.result import CommandResult
from shared.provenance import acting_as

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}

AMIRA = "amira.khan@northgate.example"  # provider account manager, opens the contract
SAM = "sam.osei@northgate.example"  # provider delivery lead
LI = "li.wei@harbour.example"  # client decision maker, warehouse
TOM = "tom.okafor@harbour.example"  # client decision maker, transport
GRACE = "grace.hall@harbour.example"  # client sponsor
OLIVE = "olive.berg@harbour.example"  # client-side auditor
STRANGER = "someone@elsewhere.example"  # on no contract

ROLES = {
    AMIRA: "provider_account_manager",
    SAM: "provider_delivery_lead",
    LI: "client_decision_maker",
    TOM: "client_decision_maker",
    GRACE: "client_sponsor",
    OLIVE: "auditor",
    STRANGER: "client_decision_maker",
}

MEASURABLE = {
    "metric": "Priority-1 incidents resolved within 4 hours",
    "comparison": "at_least",
    "target": "95",
    "unit": "percent",
    "recurrence": "monthly",
    "measurement_method": "Service desk ticket export",
    "measured_by": "Client service management office",
}


class Story:
    """One contract with every kind of participant on it, on in-memory persistence."""

    def __init__(self, app: Elicitation | None = None) -> None:
        self.app = app or Elicitation(env=POPO)
        self.contract_id = self.do(
            self.app.open_contract,
            by=AMIRA,
            client_organisation="Harbour Logistics plc",
            provider_organisation="Northgate IT Services",
            title="Managed IT service desk, 2025-2028",
            starts_on="2025-04-01",
            name="Amira Khan",
            role="provider_account_manager",
            email=AMIRA,
        ).id
        # Each side appoints its own people: Amira seeds the client side with its sponsor, who
        # appoints the rest of it; an auditor is nominated by one side and confirmed by the other.
        for appointer, person, name, role, side in [
            (AMIRA, SAM, "Sam Osei", "provider_delivery_lead", None),
            (AMIRA, GRACE, "Grace Hall", "client_sponsor", None),
            (GRACE, LI, "Li Wei", "client_decision_maker", None),
            (GRACE, TOM, "Tom Okafor", "client_decision_maker", None),
            (AMIRA, OLIVE, "Olive Berg", "auditor", "client"),
            (GRACE, OLIVE, "Olive Berg", "auditor", "client"),
        ]:
            self.do(
                self.app.join_contract,
                self.contract_id,
                by=appointer,
                person_id=person,
                name=name,
                role=role,
                side=side,
                email=person,
            )

    def do(self, command: Callable[..., CommandResult], *args: Any, by: str, **kwargs: Any) -> Any:
        """Run a command as `by`, as the API does: within their provenance."""
        with acting_as(by, ROLES.get(by, "unknown")):
            return command(*args, by=by, **kwargs)

    @contextmanager
    def refused(self, code: str) -> Iterator[pytest.ExceptionInfo[ElicitationError]]:
        """The block is refused with `code`, a message for people, and nothing is stored."""
        before = self.app.recorder.max_notification_id()
        with pytest.raises(ElicitationError) as refusal:
            yield refusal
        assert refusal.value.code == code, f"{refusal.value.code}: {refusal.value.message}"
        assert refusal.value.message
        assert self.app.recorder.max_notification_id() == before

    # Steps that many stories share

    def proposed(self, text: str = "Scanners fixed fast", by: str = LI) -> UUID:
        return self.do(
            self.app.propose_expectation,
            self.contract_id,
            by=by,
            text=text,
            business_area="Warehouse operations",
            why_it_matters="Evening dispatch waits on scanning",
        ).id

    def measurable(self, terms: dict[str, Any] | None = None, by: str = LI) -> UUID:
        expectation_id = self.proposed(by=by)
        self.do(
            self.app.refine_expectation,
            expectation_id,
            by=AMIRA,
            text="Priority-1 scanner incidents are resolved within 4 hours",
            terms=terms or MEASURABLE,
            reason="Agreed in the expectations meeting",
        )
        return expectation_id

    def committed(self, terms: dict[str, Any] | None = None) -> UUID:
        expectation_id = self.measurable(terms)
        self.do(self.app.commit_to_expectation, expectation_id, by=AMIRA)
        return expectation_id

    def measured(self, expectation_id: UUID, value: Any) -> CommandResult:
        return self.do(
            self.app.record_measurement,
            expectation_id,
            by=SAM,
            period_start="2025-05-01",
            period_end="2025-05-31",
            value=value,
            source="Ticket export, May",
        )

    def obligation(self) -> UUID:
        return self.do(
            self.app.propose_obligation,
            self.contract_id,
            by=AMIRA,
            what="Remote access to the warehouse management system",
            needed_from=LI,
            due_on="2025-03-15",
        ).id

    def risk(self, kind: str = "problem") -> UUID:
        return self.do(
            self.app.disclose_risk,
            self.contract_id,
            by=SAM,
            kind=kind,
            title="Scanner firmware end of support",
            description="The vendor ends firmware support in June",
            likelihood=3,
            impact=4,
            prepare_for="Budget for replacement scanners",
        ).id
