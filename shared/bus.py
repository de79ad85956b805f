"""The bus: one small interface, with a Kafka and an in-process implementation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from shared.envelope import Envelope, Headers, from_kafka


@dataclass(frozen=True)
class Message:
    """A message as the bus delivered it, before decoding: what a dead letter keeps."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers
    # The envelope once decoded: the in-process bus and a replay from the event stores make it
    # decoded already (with no bytes at all), the bus the same message for every consumer.
    decoded: Envelope | None = field(default=None, compare=False, repr=False)

    def envelope(self) -> Envelope:
        """Decode, once; raises UndecodableMessage, UnknownEventType or ContractViolation."""
        if self.decoded is None:
            decoded = from_kafka(
                self.key,
                self.value,
                self.headers,
                topic=self.topic,
                partition=self.partition,
                offset=self.offset,
            )
            object.__setattr__(self, "decoded", decoded)
            return decoded
        return self.decoded


@dataclass(frozen=True, order=True)
class Partition:
    topic: str
    partition: int


# Given newly assigned partitions, answers the offset to resume each from.
OnAssigned = Callable[[Sequence[Partition]], Awaitable[dict[Partition, int]]]


class Publisher(Protocol):
    """Publishes envelopes to a topic, in order, keyed by contract."""

    # False when what was published does not survive a restart (the in-process bus).
    durable: bool

    async def start(self) -> None: ...

    async def publish(self, topic: str, envelopes: Sequence[Envelope]) -> None: ...

    async def reset(self) -> None:
        """Drop and recreate the underlying client after an error it cannot recover from."""

    async def stop(self) -> None: ...


class Consumer(Protocol):
    """Consumes topics as a member of a consumer group; offsets are the caller's to keep."""

    async def start(self, on_assigned: OnAssigned) -> None: ...

    async def fetch(self, timeout: float, max_records: int) -> list[Message]: ...

    async def seek(self, positions: dict[Partition, int]) -> None: ...

    async def commit(self, positions: dict[Partition, int]) -> None:
        """Tell the broker how far the group got (for lag); the caller's store is the truth."""

    def assignment(self) -> set[Partition]: ...

    def lag(self) -> int:
        """Messages on the assigned partitions not yet fetched (as far as the client knows)."""

    async def end_offsets(self) -> dict[Partition, int]:
        """Each assigned partition's end now: the offset its next message will get."""

    async def stop(self) -> None: ...


class Bus(Protocol):
    """Makes the publishers and consumers of one deployment: Kafka, or in process."""

    def publisher(self, client_id: str) -> Publisher: ...

    def consumer(self, topics: Sequence[str], group: str) -> Consumer: ...
