"""The in-process bus of the embedded default: one partition per topic, held in memory."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Sequence

from shared.bus import Message, OnAssigned, Partition
from shared.envelope import Envelope

# Messages every consumer has committed are dropped once at least this many have piled up.
FORGET_AFTER = 10_000


class InProcessBus:
    """Topics as in-memory logs. Not durable: relays publish again after a restart, in the same
    order, so offsets come out the same and consumers resume where they were. A bus whose owner
    `seals` it may have a topic start past the beginning (`start_at`): where its relay marked
    an offset that no consumer resumes before (shared/relay_marks.py), not the whole history.

    Once sealed (every consumer made: the embedded default seals it when all its processes have
    started), a topic keeps only what some consumer has not committed yet: a process running
    for days holds what its slowest consumer still has to apply, not the whole history. An
    unsealed bus keeps everything, as a consumer yet to come may need it."""

    def __init__(self, forget_after: int = FORGET_AFTER, *, seals: bool = False) -> None:
        # Whether its owner seals it once every consumer is made (the embedded default does).
        self.seals = seals
        self._logs: dict[str, list[Message]] = {}
        # By topic, each kept message's place in the order the bus took messages in, whatever
        # their topic: a consumer of several topics is handed them in that order.
        self._arrivals: dict[str, list[int]] = {}
        self._arrived = 0
        # The offset of each log's first message kept (those before it were dropped).
        self._first: dict[str, int] = {}
        self._consumers: list[InProcessConsumer] = []
        self._sealed = False
        self._sealed_now = asyncio.Event()
        self._forget_after = forget_after
        self._changed = asyncio.Condition()

    def log(self, topic: str) -> list[Message]:
        """The messages of `topic` still kept, oldest first."""
        return self._logs.setdefault(topic, [])

    def end(self, topic: str) -> int:
        """The offset the next message of `topic` gets."""
        return self._first.get(topic, 0) + len(self.log(topic))

    def read_in_arrival(self, topic: str, offset: int, count: int) -> list[tuple[int, Message]]:
        """Up to `count` messages of `topic` from `offset` on, each with its place in the order
        the bus took messages of every topic in."""
        first = self._first.get(topic, 0)
        if offset < first:
            raise LookupError(f"{topic}: offset {offset} was dropped (the log starts at {first})")
        start, end = offset - first, offset - first + count
        arrivals = self._arrivals.setdefault(topic, [])
        return list(zip(arrivals[start:end], self.log(topic)[start:end], strict=True))

    async def append(self, topic: str, envelopes: Sequence[Envelope]) -> None:
        log, arrivals = self.log(topic), self._arrivals.setdefault(topic, [])
        for envelope in envelopes:
            offset = self.end(topic)
            arrivals.append(self._arrived)
            self._arrived += 1
            # Its consumers read the envelope published, with no bytes: the same envelope as its
            # Kafka bytes decode to (a test holds the two equal for every contract), without
            # encoding or decoding. A dead letter keeps the bytes the relay would publish.
            decoded = envelope.at(topic, 0, offset)
            log.append(Message(topic, 0, offset, None, None, (), decoded=decoded))
        self.forget_committed(topic)
        async with self._changed:
            self._changed.notify_all()

    def seal(self) -> None:
        """Every consumer is made: from now on what all of them committed may be dropped."""
        self._sealed = True
        self._sealed_now.set()
        for topic in self._logs:
            self.forget_committed(topic)

    def forget_committed(self, topic: str) -> None:
        """Drop what every consumer of `topic` committed (everything, if none consumes it),
        once enough has piled up for the copy of the list to be worth it."""
        if not self._sealed:
            return
        first = self._first.get(topic, 0)
        # Never past what the log holds: a relay publishing again after a restart is behind
        # consumers that resume further on, and each message keeps the offset it first had.
        committed = self.committed_by_all(topic)
        upto = self.end(topic) if committed is None else min(committed, self.end(topic))
        if upto - first >= self._forget_after:
            del self.log(topic)[: upto - first]
            del self._arrivals.setdefault(topic, [])[: upto - first]
            self._first[topic] = upto

    def start_at(self, topic: str, offset: int) -> None:
        """Number `topic` from `offset`: what came before it is not published again."""
        if self.log(topic) or topic in self._first:
            raise RuntimeError(f"{topic}: already started at {self._first.get(topic, 0)}")
        self._first[topic] = offset

    def committed_by_all(self, topic: str) -> int | None:
        """The offset before which no consumer of `topic` needs anything again (None if none
        consumes it): where the slowest resumed, or what it committed since."""
        committed = [c.committed[topic] for c in self._consumers if topic in c.committed]
        return min(committed) if committed else None

    async def resume_point(self, topic: str) -> int | None:
        """`committed_by_all` once every consumer is made and has resumed (the bus sealed)."""
        if not self.seals:
            raise RuntimeError("only a bus its owner seals knows where every consumer resumes")
        await self._sealed_now.wait()
        return self.committed_by_all(topic)

    async def wait_for_more(self, timeout: float) -> None:
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)

    def publisher(self, client_id: str = "") -> InProcessPublisher:
        return InProcessPublisher(self)

    def consumer(self, topics: Sequence[str], group: str = "") -> InProcessConsumer:
        """Each consumer is the only member of its group and reads every message."""
        if self._sealed:
            raise RuntimeError("the bus is sealed: a consumer made now may need what was dropped")
        consumer = InProcessConsumer(self, topics)
        self._consumers.append(consumer)
        return consumer


class InProcessPublisher:
    durable = False

    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus

    async def start(self) -> None:
        return None

    async def publish(self, topic: str, envelopes: Sequence[Envelope]) -> None:
        await self.bus.append(topic, envelopes)

    async def reset(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class InProcessConsumer:
    """The only member of its group: every topic's single partition is assigned to it."""

    def __init__(self, bus: InProcessBus, topics: Sequence[str]) -> None:
        self._bus = bus
        self._positions = {Partition(topic, 0): 0 for topic in topics}
        # By topic, the offset before which this consumer needs nothing again: where it
        # resumed (its stored offsets), then what it committed.
        self.committed = {topic: 0 for topic in topics}

    async def start(self, on_assigned: OnAssigned) -> None:
        resume = await on_assigned(sorted(self._positions))
        await self.seek(resume)
        await self.commit(resume)

    async def fetch(self, timeout: float, max_records: int) -> list[Message]:
        batch = self._take(max_records)
        if not batch:
            await self._bus.wait_for_more(timeout)
            batch = self._take(max_records)
        return batch

    def _take(self, max_records: int) -> list[Message]:
        """Up to `max_records` messages of the consumer's topics, in the order the bus took
        them: a view of two services' events applies what one published before the other's
        in that order (a missed target after the ranking that made it a corporate priority),
        however the messages fall into batches."""
        runs = [
            self._bus.read_in_arrival(partition.topic, position, max_records)
            for partition, position in self._positions.items()
        ]
        merged = heapq.merge(*runs, key=lambda numbered: numbered[0])
        batch = [message for _, message in itertools.islice(merged, max_records)]
        for message in batch:
            self._positions[Partition(message.topic, message.partition)] += 1
        return batch

    async def seek(self, positions: dict[Partition, int]) -> None:
        for partition, offset in positions.items():
            if partition in self._positions:
                self._positions[partition] = offset

    async def commit(self, positions: dict[Partition, int]) -> None:
        for partition, offset in positions.items():
            if partition.topic in self.committed:
                self.committed[partition.topic] = max(self.committed[partition.topic], offset)
                self._bus.forget_committed(partition.topic)

    def assignment(self) -> set[Partition]:
        return set(self._positions)

    def lag(self) -> int:
        return sum(self._bus.end(p.topic) - at for p, at in self._positions.items())

    async def end_offsets(self) -> dict[Partition, int]:
        return {p: self._bus.end(p.topic) for p in self._positions}

    async def stop(self) -> None:
        return None
