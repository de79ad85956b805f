"""Who did it, on whose behalf and why: stamped on every stored event."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any
from uuid import uuid4


class MissingProvenance(RuntimeError):
    """An event was about to be stored without saying who caused it."""


@dataclass(frozen=True)
class Provenance:
    """The actor and the causal chain behind a change."""

    actor_id: str
    actor_role: str
    correlation_id: str = ""
    causation_id: str = ""
    traceparent: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


_current: ContextVar[Provenance | None] = ContextVar("accord_provenance", default=None)


@contextmanager
def acting_as(
    actor_id: str,
    actor_role: str,
    *,
    correlation_id: str = "",
    causation_id: str = "",
    traceparent: str = "",
) -> Iterator[Provenance]:
    """Within the block, every stored event is stamped with this actor and causal chain."""
    provenance = Provenance(
        actor_id=actor_id,
        actor_role=actor_role,
        correlation_id=correlation_id or str(uuid4()),
        causation_id=causation_id,
        traceparent=traceparent,
    )
    token = _current.set(provenance)
    try:
        yield provenance
    finally:
        _current.reset(token)


def current_provenance() -> Provenance:
    """The provenance in force; raises MissingProvenance outside `acting_as`."""
    provenance = _current.get()
    if provenance is None:
        raise MissingProvenance("events must be stored within acting_as(actor, role)")
    return provenance


def provenance_of(event: Any) -> Mapping[str, str]:
    """The provenance stamped on a stored domain event (empty if none)."""
    meta = vars(event).get("_meta")
    return meta if isinstance(meta, Mapping) else {}
