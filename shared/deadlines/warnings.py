"""The warnings themselves: each one an aggregate of its own, whose id says what it warns of
(see timing.warning_id), so raising it twice, from two processes or after a restart, is
refused by the event store's optimistic concurrency."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from shared.eventstore import AccordAggregate


class ApproachingWarning(AccordAggregate):
    """A threshold of a dated promise's time passed while the promise was still open."""

    @staticmethod
    def create_id(warning_id: UUID) -> UUID:
        return warning_id

    @event("DeadlineApproaching")
    def __init__(
        self,
        warning_id: UUID,
        contract_id: UUID,
        kind: str,
        item_id: UUID,
        step: int | None,
        threshold: int,
        starts_at: datetime,
        due_at: datetime,
        owner: str,
    ) -> None:
        self._contract_id = contract_id
        self.kind = kind
        self.item_id = item_id
        self.threshold = threshold

    @property
    def contract_id(self) -> UUID:
        return self._contract_id


class MissedWarning(AccordAggregate):
    """A dated promise's deadline passed while it was still open."""

    @staticmethod
    def create_id(warning_id: UUID) -> UUID:
        return warning_id

    @event("DeadlineMissed")
    def __init__(
        self,
        warning_id: UUID,
        contract_id: UUID,
        kind: str,
        item_id: UUID,
        step: int | None,
        starts_at: datetime,
        due_at: datetime,
        owner: str,
    ) -> None:
        self._contract_id = contract_id
        self.kind = kind
        self.item_id = item_id

    @property
    def contract_id(self) -> UUID:
        return self._contract_id
