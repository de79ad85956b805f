"""A small aggregate and its contracts, only for exercising the kernel in tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import event

from shared.envelope import Envelope
from shared.event_ids import event_id
from shared.eventstore import AccordAggregate
from shared.schemas import EventContract, contract, registry

SERVICE = "testkit"


class Note(AccordAggregate):
    """A note on a contract, rewritten over time."""

    @event("NoteWritten")
    def __init__(self, contract_id: UUID, text: str) -> None:
        self._contract_id = contract_id
        self.text = text

    @property
    def contract_id(self) -> UUID:
        return self._contract_id

    @event("NoteRewritten")
    def rewrite(self, text: str, reason: str) -> None:
        self.text = text


@contract(
    SERVICE,
    "NoteWritten",
    example={"contract_id": "0b7c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3", "text": "Kick-off notes"},
)
class NoteWrittenV1(EventContract):
    """A note was written on a contract."""

    contract_id: UUID
    text: str


@contract(SERVICE, "NoteRewritten", example={"text": "Kick-off notes, agreed", "reason": "agreed"})
class NoteRewrittenV1(EventContract):
    """A note was reworded, with the reason."""

    text: str
    reason: str


class Notes(Application[UUID]):
    """The application of the test service."""

    def write(self, contract_id: UUID, text: str) -> UUID:
        note = Note(contract_id, text)
        self.save(note)
        return note.id

    def rewrite(self, note_id: UUID, text: str, reason: str = "") -> None:
        note: Any = self.repository.get(note_id)
        note.rewrite(text, reason)
        self.save(note)


def written_on(key: str) -> Envelope:
    """A NoteWritten envelope of a new note, published under `key`, as a relay would."""
    spec, subject = registry.latest(SERVICE, "NoteWritten"), uuid4()
    return Envelope(
        id=event_id(subject, 1), type=spec.ce_type, source=f"/accord/{SERVICE}",
        subject=str(subject), time=datetime.now(UTC), key=key,
        data=spec.to_data({"contract_id": key, "text": "Kick-off notes"}), sequence=1,
    )  # fmt: skip
