"""The in-process bus of the embedded default: one partition per topic, held in memory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from shared.bus import Message, OnAssigned, Partition
from shared.envelope import Envelope, to_kafka


class InProcessBus:
    """Topics as in-memory logs. Not durable: relays republish from the start after a restart,
    in the same order, so offsets come out the same and consumers resume where they were."""

    def __init__(self) -> None:
        self._logs: dict[str, list[Message]] = {}
        self._changed = asyncio.Condition()

    def log(self, topic: str) -> list[Message]:
        return self._logs.setdefault(topic, [])

    async def append(self, topic: str, envelopes: Sequence[Envelope]) -> None:
        log = self.log(topic)
        for envelope in envelopes:
            key, value, headers = to_kafka(envelope)
            log.append(Message(topic, 0, len(log), key, value, tuple(headers)))
        async with self._changed:
            self._changed.notify_all()

    async def wait_for_more(self, timeout: float) -> None:
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)

    def publisher(self, client_id: str = "") -> InProcessPublisher:
        return InProcessPublisher(self)

    def consumer(self, topics: Sequence[str], group: str = "") -> InProcessConsumer:
        """Each consumer is the only member of its group and reads every message."""
        return InProcessConsumer(self, topics)


class InProcessPublisher:
    durable = False

    def __init__(self, bus: InProcessBus) -> None:
        self._bus = bus

    async def start(self) -> None:
        return None

    async def publish(self, topic: str, envelopes: Sequence[Envelope]) -> None:
        await self._bus.append(topic, envelopes)

    async def reset(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class InProcessConsumer:
    """The only member of its group: every topic's single partition is assigned to it."""

    def __init__(self, bus: InProcessBus, topics: Sequence[str]) -> None:
        self._bus = bus
        self._positions = {Partition(topic, 0): 0 for topic in topics}

    async def start(self, on_assigned: OnAssigned) -> None:
        resume = await on_assigned(sorted(self._positions))
        await self.seek(resume)

    async def fetch(self, timeout: float, max_records: int) -> list[Message]:
        batch = self._take(max_records)
        if not batch:
            await self._bus.wait_for_more(timeout)
            batch = self._take(max_records)
        return batch

    def _take(self, max_records: int) -> list[Message]:
        batch: list[Message] = []
        for partition, position in self._positions.items():
            taken = self._bus.log(partition.topic)[position : position + max_records - len(batch)]
            self._positions[partition] = position + len(taken)
            batch.extend(taken)
        return batch

    async def seek(self, positions: dict[Partition, int]) -> None:
        for partition, offset in positions.items():
            if partition in self._positions:
                self._positions[partition] = offset

    async def commit(self, positions: dict[Partition, int]) -> None:
        return None

    def assignment(self) -> set[Partition]:
        return set(self._positions)

    def lag(self) -> int:
        return sum(len(self._bus.log(p.topic)) - at for p, at in self._positions.items())

    async def stop(self) -> None:
        return None
