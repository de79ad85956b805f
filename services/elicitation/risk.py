"""The Risk aggregate: disclosed early, acknowledged by the client, acted on, resolved."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.domain import event

from services.elicitation import inputs
from services.elicitation.errors import RiskAlreadyAcknowledged, RiskIsResolved, TextEmpty
from services.elicitation.snapshots import StateSnapshot
from shared.commands.elicitation import RiskKind
from shared.eventstore import AccordAggregate


class Risk(AccordAggregate):
    """A risk the provider disclosed on one contract.

    A disclosure counts only once a client decision maker acknowledged it; until then it is
    listed as unacknowledged, so nobody can claim the client was told when it was not.
    """

    # Its state is snapshotted as plain JSON (see snapshots.py).
    Snapshot = StateSnapshot

    @staticmethod
    def create_id(risk_id: UUID) -> UUID:
        # The application chooses the id so RiskDisclosed can carry it.
        return risk_id

    @classmethod
    def disclose(
        cls,
        *,
        risk_id: UUID,
        contract_id: UUID,
        kind: RiskKind | str,
        title: str,
        description: str,
        likelihood: int,
        impact: int,
        affected_expectations: Sequence[UUID],
        prepare_for: str,
        by: str,
    ) -> Risk:
        chosen = inputs.choice("kind", kind, RiskKind)
        preparation = inputs.optional_text("prepare_for", prepare_for)
        if chosen is RiskKind.PRECONDITIONING and not preparation:
            # Preconditioning is telling the client what to prepare for; without it, it is not.
            raise TextEmpty("prepare_for")
        return cls(
            contract_id=contract_id,
            risk_id=risk_id,
            kind=chosen.value,
            title=inputs.label("title", title),
            description=inputs.text("description", description),
            likelihood=inputs.score("likelihood", likelihood),
            impact=inputs.score("impact", impact),
            affected_expectations=list(affected_expectations),
            prepare_for=preparation,
            disclosed_by=by,
        )

    @event("RiskDisclosed")
    def __init__(
        self,
        contract_id: UUID,
        risk_id: UUID,
        kind: str,
        title: str,
        description: str,
        likelihood: int,
        impact: int,
        affected_expectations: list[UUID],
        prepare_for: str,
        disclosed_by: str,
    ) -> None:
        self._contract_id = contract_id
        self.kind = RiskKind(kind)
        self.title = title
        self.description = description
        self.likelihood = likelihood
        self.impact = impact
        self.affected_expectations = tuple(affected_expectations)
        self.prepare_for = prepare_for
        self.disclosed_by = disclosed_by
        self.acknowledged_by: tuple[str, ...] = ()
        self.remedial_actions: tuple[str, ...] = ()
        self.resolution = ""

    @property
    def contract_id(self) -> UUID:
        return self._contract_id

    @property
    def acknowledged(self) -> bool:
        return bool(self.acknowledged_by)

    @property
    def resolved(self) -> bool:
        return bool(self.resolution)

    @property
    def exposure(self) -> int:
        """Likelihood times impact, 1 to 25: how loudly the risk should be shown."""
        return self.likelihood * self.impact

    def acknowledge(self, *, by: str) -> None:
        # Each decision maker confirms for themself; one is enough for the disclosure to count.
        if by in self.acknowledged_by:
            raise RiskAlreadyAcknowledged(self.id, by)
        self._acknowledged(contract_id=self.contract_id, risk_id=self.id, acknowledged_by=by)

    @event("RiskAcknowledged")
    def _acknowledged(self, contract_id: UUID, risk_id: UUID, acknowledged_by: str) -> None:
        self.acknowledged_by = (*self.acknowledged_by, acknowledged_by)

    def take_remedial_action(self, *, action: str, by: str) -> None:
        self._check_unresolved()
        self._remedial_action_taken(
            contract_id=self.contract_id,
            risk_id=self.id,
            action=inputs.text("action", action),
            taken_by=by,
        )

    @event("RemedialActionTaken")
    def _remedial_action_taken(
        self, contract_id: UUID, risk_id: UUID, action: str, taken_by: str
    ) -> None:
        self.remedial_actions = (*self.remedial_actions, action)

    def resolve(self, *, resolution: str, by: str) -> None:
        self._check_unresolved()
        self._resolved(
            contract_id=self.contract_id,
            risk_id=self.id,
            resolution=inputs.text("resolution", resolution),
            resolved_by=by,
        )

    @event("RiskResolved")
    def _resolved(
        self, contract_id: UUID, risk_id: UUID, resolution: str, resolved_by: str
    ) -> None:
        self.resolution = resolution

    def _check_unresolved(self) -> None:
        if self.resolved:
            raise RiskIsResolved(self.id)
