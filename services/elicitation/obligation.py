"""The Obligation aggregate: what the provider needs from the client to meet expectations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from services.elicitation import inputs
from services.elicitation.errors import (
    ObligationAlreadyBreached,
    ObligationAlreadyDecided,
    ObligationAlreadyFulfilled,
    ObligationNotAccepted,
)
from shared.eventstore import AccordAggregate


class ObligationStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    # Breached can still turn into fulfilled: late is better than never, and both stay recorded.
    BREACHED = "breached"
    FULFILLED = "fulfilled"


class Obligation(AccordAggregate):
    """Access, data or a decision the client owes the provider, by a date."""

    @staticmethod
    def create_id(obligation_id: UUID) -> UUID:
        # The application chooses the id so ObligationProposed can carry it.
        return obligation_id

    @classmethod
    def propose(
        cls,
        *,
        obligation_id: UUID,
        contract_id: UUID,
        what: str,
        needed_from: str,
        due_on: date | str,
        depends_on: Sequence[UUID],
        by: str,
    ) -> Obligation:
        return cls(
            contract_id=contract_id,
            obligation_id=obligation_id,
            what=inputs.text("what", what),
            needed_from=needed_from,
            due_on=inputs.a_date("due_on", due_on),
            depends_on=list(depends_on),
            proposed_by=by,
        )

    @event("ObligationProposed")
    def __init__(
        self,
        contract_id: UUID,
        obligation_id: UUID,
        what: str,
        needed_from: str,
        due_on: date,
        depends_on: list[UUID],
        proposed_by: str,
    ) -> None:
        self._contract_id = contract_id
        self.what = what
        self.needed_from = needed_from
        self.due_on = due_on
        self.depends_on = tuple(depends_on)
        self.proposed_by = proposed_by
        self.status = ObligationStatus.PROPOSED
        self.decided_by = ""
        self.decline_reason = ""
        self.what_happened = ""
        self.fulfilment_note = ""

    @property
    def contract_id(self) -> UUID:
        return self._contract_id

    def _check_undecided(self) -> None:
        if self.status is not ObligationStatus.PROPOSED:
            decision = "declined" if self.status is ObligationStatus.DECLINED else "accepted"
            raise ObligationAlreadyDecided(self.id, decision)

    def accept(self, *, by: str) -> None:
        self._check_undecided()
        self._accepted(contract_id=self.contract_id, obligation_id=self.id, accepted_by=by)

    @event("ObligationAccepted")
    def _accepted(self, contract_id: UUID, obligation_id: UUID, accepted_by: str) -> None:
        self.status = ObligationStatus.ACCEPTED
        self.decided_by = accepted_by

    def decline(self, *, reason: str, by: str) -> None:
        self._check_undecided()
        self._declined(
            contract_id=self.contract_id,
            obligation_id=self.id,
            reason=inputs.text("reason", reason),
            declined_by=by,
        )

    @event("ObligationDeclined")
    def _declined(
        self, contract_id: UUID, obligation_id: UUID, reason: str, declined_by: str
    ) -> None:
        self.status = ObligationStatus.DECLINED
        self.decided_by = declined_by
        self.decline_reason = reason

    def _check_in_force(self) -> None:
        if self.status is ObligationStatus.FULFILLED:
            raise ObligationAlreadyFulfilled(self.id)
        if self.status not in (ObligationStatus.ACCEPTED, ObligationStatus.BREACHED):
            raise ObligationNotAccepted(self.id, self.status.value)

    def fulfil(self, *, note: str, by: str) -> None:
        self._check_in_force()
        self._fulfilled(
            contract_id=self.contract_id,
            obligation_id=self.id,
            note=inputs.optional_text("note", note),
            confirmed_by=by,
        )

    @event("ObligationFulfilled")
    def _fulfilled(
        self, contract_id: UUID, obligation_id: UUID, note: str, confirmed_by: str
    ) -> None:
        self.status = ObligationStatus.FULFILLED
        self.fulfilment_note = note

    def breach(self, *, what_happened: str, impact: str, by: str) -> None:
        self._check_in_force()
        if self.status is ObligationStatus.BREACHED:
            raise ObligationAlreadyBreached(self.id)
        self._breached(
            contract_id=self.contract_id,
            obligation_id=self.id,
            what_happened=inputs.text("what_happened", what_happened),
            impact=inputs.optional_text("impact", impact),
            declared_by=by,
        )

    @event("ObligationBreached")
    def _breached(
        self,
        contract_id: UUID,
        obligation_id: UUID,
        what_happened: str,
        impact: str,
        declared_by: str,
    ) -> None:
        self.status = ObligationStatus.BREACHED
        self.what_happened = what_happened
