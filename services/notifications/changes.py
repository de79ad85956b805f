"""Policy and preference changes: each one a recorded decision, the latest one in force."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from shared.eventstore import AccordAggregate


class PolicyChange(AccordAggregate):
    """Someone set how a contract notifies on one trigger; later changes supersede it."""

    @event("PolicyChanged")
    def __init__(
        self, contract_id: UUID, trigger: str, policy: dict[str, Any], changed_by: str
    ) -> None:
        self._contract_id = contract_id
        self.trigger = trigger
        self.policy = policy
        self.changed_by = changed_by

    @property
    def contract_id(self) -> UUID:
        return self._contract_id


class PreferenceChange(AccordAggregate):
    """A person's channel and cadence on a contract; later changes supersede it."""

    @event("PreferencesChanged")
    def __init__(
        self,
        contract_id: UUID,
        person_id: str,
        channel: str,
        cadence: str,
        email: str,
        webhook_url: str,
        changed_by: str,
    ) -> None:
        self._contract_id = contract_id
        self.person_id = person_id
        self.channel = channel
        self.cadence = cadence
        self.email = email
        self.webhook_url = webhook_url
        self.changed_by = changed_by

    @property
    def contract_id(self) -> UUID:
        return self._contract_id
