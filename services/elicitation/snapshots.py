"""Snapshots of elicitation's aggregates, so that loading one does not replay all its history.

A snapshot is a cache of an aggregate's state at a version, kept by the eventsourcing library in
a table of its own beside the stored events (`elicitation_snapshots`): the events stay the
record that the relay publishes, replay rebuilds from and auditors verify; nothing reads a
snapshot but the repository that loads the aggregate.

The state is stored as JSON the library's transcoder writes (ids, dates, instants and decimals
are its registered types); the domain's own values are marked with their class, which must be
one of this service's, so that a snapshot can only ever rebuild elicitation's own types.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any

from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic, resolve_topic

# Only classes of this package may be named by a stored snapshot, and the closed sets its
# commands carry (roles, sides, comparisons...: shared/commands/elicitation.py). Snapshots taken
# before those moved there name them in the domain's modules, which still import them.
OWN_TOPICS = ("services.elicitation.", "shared.commands.elicitation:")

# How often an aggregate is snapshotted, in events: loading one replays at most this many.
SNAPSHOT_EVERY = 50


class UnknownSnapshotType(ValueError):
    """A snapshot names a class that is not one of elicitation's own."""


@dataclass(frozen=True)
class StateSnapshot(Snapshot):
    """The library's snapshot, its state written in plain JSON and read back typed."""

    @classmethod
    def take(cls, aggregate: Any) -> StateSnapshot:
        taken = super().take(aggregate)
        state = {name: encode(value) for name, value in taken.state.items()}
        return dataclasses.replace(taken, state=state)

    def mutate(self, _: None) -> Any:
        state = {name: decode(value) for name, value in self.state.items()}
        return super(StateSnapshot, dataclasses.replace(self, state=state)).mutate(None)


def encode(value: Any) -> Any:
    """A value as JSON the transcoder can write: enums, dataclasses, dicts, tuples and sets are
    marked with what they were (JSON alone would make them strings, objects and lists)."""
    if isinstance(value, Enum):
        return {"~enum": [get_topic(type(value)), value.value]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"~dataclass": [get_topic(type(value)), fields]}
    if isinstance(value, dict):
        return {"~dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"~tuple": [encode(v) for v in value]}
    if isinstance(value, frozenset | set):
        return {f"~{type(value).__name__}": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """The value `encode` was given."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    ((mark, data),) = value.items()
    if mark == "~enum":
        topic, raw = data
        return _own(topic)(raw)
    if mark == "~dataclass":
        topic, fields = data
        kind = _own(topic)
        # Rebuilt as it was, without running its constructor's checks again.
        rebuilt = object.__new__(kind)
        for name, field_value in fields.items():
            object.__setattr__(rebuilt, name, decode(field_value))
        return rebuilt
    if mark == "~dict":
        return {decode(k): decode(v) for k, v in data}
    if mark == "~tuple":
        return tuple(decode(v) for v in data)
    if mark == "~frozenset":
        return frozenset(decode(v) for v in data)
    if mark == "~set":
        return {decode(v) for v in data}
    raise UnknownSnapshotType(f"a snapshot holds an unknown mark {mark!r}")


def _own(topic: str) -> Any:
    if not topic.startswith(OWN_TOPICS):
        raise UnknownSnapshotType(f"a snapshot names {topic}, not one of elicitation's classes")
    return resolve_topic(topic)
