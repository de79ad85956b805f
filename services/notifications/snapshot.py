"""What the service knows of one contract at a moment: the planner's only input about it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID


@dataclass(frozen=True)
class Person:
    """A participant, as elicitation's ParticipantJoined described them."""

    person_id: str
    name: str
    side: str
    role: str
    email: str = ""


@dataclass(frozen=True)
class ObligationState:
    """An obligation as far as reminders need it; `status` is proposed until decided."""

    obligation_id: str
    what: str
    needed_from: str
    due_on: date
    proposed_by: str
    status: str = "proposed"

    @property
    def decided(self) -> bool:
        return self.status != "proposed"


@dataclass(frozen=True)
class ContractSnapshot:
    """People on the contract, who proposed what, its obligations and its corporate ranking."""

    contract_id: UUID
    people: Mapping[str, Person] = field(default_factory=dict)
    # expectation id -> everyone who proposed it (a merge keeps both proposers)
    proposers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    expectation_texts: Mapping[str, str] = field(default_factory=dict)
    obligations: Mapping[str, ObligationState] = field(default_factory=dict)
    # The latest corporate ranking, most important first.
    ranking: tuple[str, ...] = ()

    def in_role(self, role: str) -> list[str]:
        return sorted(p.person_id for p in self.people.values() if p.role == role)

    def name_of(self, person_id: str) -> str:
        person = self.people.get(person_id)
        return person.name if person and person.name else person_id

    def text_of(self, expectation_id: str) -> str:
        return self.expectation_texts.get(expectation_id, expectation_id)

    def rank_of(self, expectation_id: str) -> int | None:
        """1 for the most important corporate expectation; None when it is not ranked."""
        try:
            return self.ranking.index(expectation_id) + 1
        except ValueError:
            return None
