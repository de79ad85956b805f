"""The envelope every event travels in: CloudEvents 1.0, binary mode over Kafka headers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, TypeAdapter, ValidationError

from shared.schemas import registry
from shared.schemas.registry import ContractSpec

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

Headers = Sequence[tuple[str, bytes]]


class UndecodableMessage(ValueError):
    """A Kafka message that is not a CloudEvent Accord can read."""


@dataclass(frozen=True)
class StoredCopy:
    """Another stored copy of a published fact (a fact stored on several aggregates): where it
    is stored, and what the chain and the checkpoints say of it there."""

    id: str
    subject: str
    sequence: int
    position: int
    time: AwareDatetime
    hash: str = ""
    prevhash: str = ""


_COPIES = TypeAdapter(list[StoredCopy])


@dataclass(frozen=True)
class Envelope:
    """One published event: the CloudEvents attributes, Accord's extensions, and JSON data."""

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    key: str
    data: dict[str, Any]
    actor_id: str = ""
    actor_role: str = ""
    correlation_id: str = ""
    causation_id: str = ""
    traceparent: str = ""
    # The aggregate's version after this event (CloudEvents `sequence` extension).
    sequence: int = 0
    # Tamper evidence (shared/audit): the event's hash as stored, and its predecessor's in the
    # aggregate (hex; empty for an event stored unchained). Each record names the one before.
    chain_hash: str = ""
    previous_hash: str = ""
    # The event's position in its service's log (the notification id its hash covers): the
    # order of the leaves a signed checkpoint's Merkle root is computed over. 0: not given.
    position: int = 0
    # The same fact's other stored copies (`accordcopies`), published with this one record.
    copies: tuple[StoredCopy, ...] = ()
    # Where the bus delivered it from; empty until consumed.
    topic: str = ""
    partition: int = 0
    offset: int = -1

    @property
    def spec(self) -> ContractSpec:
        return registry.lookup(self.type)

    def at(self, topic: str, partition: int, offset: int) -> Envelope:
        return replace(self, topic=topic, partition=partition, offset=offset)

    def stored_events(self) -> list[Envelope]:
        """One envelope per stored event this record carries: itself, then each copy as the
        envelope of the event stored on that copy's aggregate."""
        if not self.copies:
            return [self]
        return [replace(self, copies=())] + [
            replace(
                self,
                id=c.id,
                subject=c.subject,
                sequence=c.sequence,
                position=c.position,
                time=c.time,
                chain_hash=c.hash,
                previous_hash=c.prevhash,
                copies=(),
            )
            for c in self.copies
        ]


def data_bytes(data: dict[str, Any]) -> bytes:
    """Event data as it goes on the wire: canonical JSON (keys sorted, no whitespace), so one
    fact's data is the same bytes wherever it is published or compared."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


# CloudEvents attributes and extensions, each a `ce_` header (Kafka protocol binding).
_ATTRIBUTES = {
    "id": "ce_id",
    "type": "ce_type",
    "source": "ce_source",
    "subject": "ce_subject",
    "actor_id": "ce_actorid",
    "actor_role": "ce_actorrole",
    "correlation_id": "ce_correlationid",
    "causation_id": "ce_causationid",
    "chain_hash": "ce_accordhash",
    "previous_hash": "ce_accordprevhash",
}


def to_kafka(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Key, value and headers of the Kafka message that carries the envelope."""
    headers = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("content-type", CONTENT_TYPE.encode()),
        ("ce_time", envelope.time.astimezone(UTC).isoformat().encode()),
    ]
    for attribute, header in _ATTRIBUTES.items():
        value = getattr(envelope, attribute)
        if value:
            headers.append((header, str(value).encode()))
    if envelope.sequence:
        headers.append(("ce_sequence", str(envelope.sequence).encode()))
    if envelope.position:
        headers.append(("ce_accordposition", str(envelope.position).encode()))
    if envelope.traceparent:
        headers.append(("traceparent", envelope.traceparent.encode()))
    if envelope.copies:
        headers.append(("ce_accordcopies", _COPIES.dump_json(list(envelope.copies))))
    return envelope.key.encode(), data_bytes(envelope.data), headers


def from_kafka(
    key: bytes | None,
    value: bytes | None,
    headers: Headers,
    *,
    topic: str = "",
    partition: int = 0,
    offset: int = -1,
) -> Envelope:
    """The envelope of a Kafka message; raises UndecodableMessage or UnknownEventType."""
    found = {name: raw.decode("utf-8", "replace") for name, raw in headers or ()}
    if found.get("ce_specversion") != SPEC_VERSION:
        raise UndecodableMessage(
            f"not a CloudEvents {SPEC_VERSION} binary-mode message "
            f"(ce_specversion={found.get('ce_specversion')!r})"
        )
    missing = [h for h in ("ce_id", "ce_type", "ce_source", "ce_time") if not found.get(h)]
    if missing:
        raise UndecodableMessage(f"missing CloudEvents headers: {', '.join(missing)}")
    try:
        data = json.loads(value or b"")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UndecodableMessage(f"data is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise UndecodableMessage("data is not a JSON object")
    try:
        time = datetime.fromisoformat(found["ce_time"])
    except ValueError as error:
        raise UndecodableMessage(f"ce_time is not an RFC 3339 time: {error}") from error
    spec = registry.lookup(found["ce_type"])  # UnknownEventType for a type nobody registered
    spec.parse(data)  # ContractViolation when the data breaks the published schema
    attributes = {attr: found.get(header, "") for attr, header in _ATTRIBUTES.items()}
    sequence = found.get("ce_sequence", "0")
    if not sequence.isdigit():
        raise UndecodableMessage(f"ce_sequence is not a number: {sequence!r}")
    position = found.get("ce_accordposition", "0")
    if not position.isdigit():
        raise UndecodableMessage(f"ce_accordposition is not a number: {position!r}")
    try:
        copies = _COPIES.validate_json(found.get("ce_accordcopies", "[]"))
    except ValidationError as error:
        raise UndecodableMessage(
            f"ce_accordcopies is not a list of stored copies: {error}"
        ) from None
    return Envelope(
        time=time,
        sequence=int(sequence),
        position=int(position),
        copies=tuple(copies),
        key=(key or b"").decode("utf-8", "replace"),
        data=data,
        traceparent=found.get("traceparent", ""),
        topic=topic,
        partition=partition,
        offset=offset,
        **attributes,
    )
