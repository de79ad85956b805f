"""Stored events as the envelopes the outbox relay publishes, decoded straight from the rows.

A rebuild from the event stores decodes every stored event of the whole history, so the cost
of one decode is paid a million times. The library's transcoder parses JSON with the standard
library and an object hook in Python; here orjson parses, and only the tagged values
(`{"_type_": ..., "_data_": ...}`) are turned into the same Python values the transcoder
makes, so the contract model validates exactly what it would have validated: the published
data come out the same. The event id is the relay's UUIDv5, computed from its SHA-1 directly.
`ACCORD_REPLAY_DECODE=stock` decodes with the library's transcoder instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal
from uuid import UUID

import orjson

from shared.envelope import Envelope
from shared.event_ids import NAMESPACE, event_id
from shared.eventstore import stored_event_transcoder
from shared.schemas import registry
from shared.schemas.registry import ContractSpec

Decode = Literal["accord", "stock"]

_TRANSCODER = stored_event_transcoder()
# The library's transcodings (see shared.eventstore), by the name a stored value is tagged with.
_TAGGED: dict[str, Callable[[str], Any]] = {
    "uuid_hex": UUID,
    "decimal_str": Decimal,
    "datetime_iso": datetime.fromisoformat,
    "date_iso": date.fromisoformat,
}
# Fields of a stored event that are the library's, never the published contract's.
_LIBRARY_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "originator_topic",
        "class_version",
        "_meta",
    }
)
# How a stored event's JSON opens its provenance, and the contract in it (see stored_key).
_META = b'"_meta":{'
_CONTRACT = b'"contract_id":"'
# The namespace of the relay's event ids (shared.event_ids), as uuid5 hashes it.
_EVENT_IDS = NAMESPACE.bytes


def fast_event_id(originator_id: UUID, originator_version: int) -> str:
    """The relay's event id (uuid5), without the UUID object the standard library makes."""
    name = f"{originator_id}:{originator_version}".encode()
    digest = bytearray(hashlib.sha1(_EVENT_IDS + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def _untag_dict(fields: dict[str, Any]) -> dict[str, Any]:
    """The parsed JSON object with every tagged value in it made the Python value it stands
    for, in place (most values are plain strings: only objects and arrays are looked into)."""
    for key, value in fields.items():
        kind = type(value)
        if kind is dict:
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                fields[key] = _TAGGED[value["_type_"]](value["_data_"])
            else:
                _untag_dict(value)
        elif kind is list and value:
            _untag_list(value)
    return fields


def _untag_list(values: list[Any]) -> None:
    for index, value in enumerate(values):
        kind = type(value)
        if kind is dict:
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                values[index] = _TAGGED[value["_type_"]](value["_data_"])
            else:
                _untag_dict(value)
        elif kind is list and value:
            _untag_list(value)


def parsed(state: bytes, decode: Decode = "accord") -> dict[str, Any]:
    """A stored event's JSON, its tagged values still tagged (`untagged` makes them values);
    decoded whole by the library's transcoder with `stock`."""
    if decode == "stock":
        stock: dict[str, Any] = _TRANSCODER.decode(state)
        return stock
    fields: dict[str, Any] = orjson.loads(state)
    return fields


def untagged(fields: dict[str, Any], decode: Decode = "accord") -> dict[str, Any]:
    """Parsed fields as the library's transcoder gives them (in place)."""
    return fields if decode == "stock" else _untag_dict(fields)


def fields_of(state: bytes, decode: Decode = "accord") -> dict[str, Any]:
    """A stored event's fields as the library's transcoder gives them."""
    return untagged(parsed(state, decode), decode)


def stored_key(state: bytes) -> str:
    """The contract `key_of` finds in a stored event's provenance, read from its JSON without
    parsing it ("": none found): Accord stores the provenance (`_meta`, flat strings) as its
    last top-level object, so the last `"_meta":{` opens it. A stored event where the two
    differ is possible in principle (a nested `_meta` after the provenance): whoever routes by
    this checks `key_of` where it decodes."""
    meta = state.rfind(_META)
    if meta < 0:
        return ""
    at = state.find(_CONTRACT, meta)
    if at < 0:
        return ""
    start = at + len(_CONTRACT)
    end = state.find(b'"', start)
    return state[start:end].decode() if end > start else ""


def key_of(fields: dict[str, Any], subject: str) -> str:
    """The event's key (its contract; else its own stream), from its fields, parsed or
    untagged alike: provenance stores the contract as a plain string."""
    meta: dict[str, Any] = fields.get("_meta") or {}
    return str(meta.get("contract_id") or subject)


@lru_cache(maxsize=1024)
def _spec(service: str, topic: str, version: int) -> ContractSpec:
    # The event's name is the last part of its stored topic (`module:Aggregate.EventName`);
    # the stored class_version is the contract's version, as the relay publishes it.
    name = topic.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    return registry.lookup(f"accord.{service}.{name}.v{version}")


def stored_envelope(
    service: str,
    originator_id: UUID,
    originator_version: int,
    topic: str,
    state: bytes,
    *,
    at: tuple[str, int, int] = ("", 0, -1),
    decode: Decode = "accord",
    position: int = 0,
) -> Envelope:
    """The envelope the outbox relay publishes for one stored event (see shared.relay), made
    without the service's classes: its fields are the stored JSON state; `position` is its
    notification id (its place in the service's log), as the relay publishes it."""
    fields = fields_of(state, decode)
    return envelope_of(
        service, originator_id, originator_version, topic, fields,
        at=at, decode=decode, position=position,
    )  # fmt: skip


def envelope_of(
    service: str,
    originator_id: UUID,
    originator_version: int,
    topic: str,
    fields: dict[str, Any],
    *,
    at: tuple[str, int, int] = ("", 0, -1),
    decode: Decode = "accord",
    position: int = 0,
) -> Envelope:
    """`stored_envelope` of the stored event's fields (`fields_of` its state)."""
    meta: dict[str, Any] = fields.get("_meta") or {}
    spec = _spec(service, topic, fields.get("class_version", 1))
    published = {k: v for k, v in fields.items() if k not in _LIBRARY_FIELDS}
    published.setdefault("contract_id", meta.get("contract_id"))
    subject = str(originator_id)
    return Envelope(
        id=fast_event_id(originator_id, originator_version)
        if decode == "accord"
        else event_id(originator_id, originator_version),
        type=spec.ce_type,
        source=f"/accord/{service}",
        subject=subject,
        time=fields["timestamp"].astimezone(UTC),
        key=key_of(fields, subject),
        data=spec.to_data(published),
        actor_id=meta.get("actor_id", ""),
        actor_role=meta.get("actor_role", ""),
        correlation_id=meta.get("correlation_id", ""),
        causation_id=meta.get("causation_id", ""),
        traceparent=meta.get("traceparent", ""),
        sequence=originator_version,
        position=position,
        topic=at[0],
        partition=at[1],
        offset=at[2],
    )
