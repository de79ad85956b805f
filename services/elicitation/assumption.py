"""The Assumption aggregate: something the provider takes to be true on a contract without
having it confirmed, recorded with who and why (the A of the contract's RAID view)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from services.elicitation import inputs
from shared.eventstore import AccordAggregate


class Assumption(AccordAggregate):
    """One assumption on one contract; recorded once, never edited (a wrong one is a risk)."""

    @staticmethod
    def create_id(assumption_id: UUID) -> UUID:
        # The application chooses the id so AssumptionRecorded can carry it.
        return assumption_id

    @classmethod
    def record(
        cls, *, assumption_id: UUID, contract_id: UUID, text: str, why: str, by: str
    ) -> Assumption:
        return cls(
            contract_id=contract_id,
            assumption_id=assumption_id,
            text=inputs.text("text", text),
            why=inputs.text("why", why),
            recorded_by=by,
        )

    @event("AssumptionRecorded")
    def __init__(
        self, contract_id: UUID, assumption_id: UUID, text: str, why: str, recorded_by: str
    ) -> None:
        self._contract_id = contract_id
        self.text = text
        self.why = why
        self.recorded_by = recorded_by

    @property
    def contract_id(self) -> UUID:
        return self._contract_id
