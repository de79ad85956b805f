"""Every partition of the topics as a rebuild reads them: from the first offset, as a consumer in
no group, up to the ends it found when it started (and later, as far as the live projector
got). A shard of the feed (`Shard`) hands over only the messages of its share of the
contracts, by their keys: a rebuild split between processes gives each one shard."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.gateway.store_feed import Shard
from shared.bus import Message, OnAssigned, Partition
from shared.bus_kafka import KafkaAccess, access


class KafkaFeed:
    """Every partition of the topics, from the first offset, as a consumer in no group."""

    adopts_live_offsets = False
    # A relay that crashed mid-batch published some events again.
    unique_events = False

    def __init__(
        self, cluster: str | KafkaAccess, topics: Sequence[str], *, shard: Shard | None = None
    ) -> None:
        self._access = access(cluster)
        self._topics = list(topics)
        self._shard = shard
        # Set by `start_between`: the targets never move, and nothing past them is handed over.
        self._fixed = False
        self._consumer = AIOKafkaConsumer(
            **self._access.options(),
            group_id=None,
            client_id="accord-replay",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        self._first: dict[TopicPartition, int] = {}
        self._target: dict[TopicPartition, int] = {}
        self._position: dict[TopicPartition, int] = {}
        self._on_assigned: OnAssigned | None = None

    async def start(self, on_assigned: OnAssigned) -> None:
        self._on_assigned = on_assigned
        await self._consumer.start()
        await self._assign_every_partition()

    @property
    def read_after(self) -> dict[Partition, int]:
        """Each partition's next offset to read."""
        return {Partition(tp.topic, tp.partition): at for tp, at in self._position.items()}

    @property
    def targets(self) -> dict[Partition, int]:
        """Each partition's offset to read up to (not included)."""
        return {Partition(tp.topic, tp.partition): to for tp, to in self._target.items()}

    async def start_between(
        self, after: dict[Partition, int], targets: dict[Partition, int]
    ) -> None:
        """Start as `start`, but read each partition from `after` up to `targets` only, and go
        no further: one part of a rebuild."""
        await self._consumer.start()
        self._fixed = True
        found = [TopicPartition(p.topic, p.partition) for p in targets]
        self._consumer.assign(found)
        for tp in found:
            partition = Partition(tp.topic, tp.partition)
            self._first[tp] = self._position[tp] = after[partition]
            self._target[tp] = targets[partition]
            self._consumer.seek(tp, after[partition])

    def skip_loaded(self) -> None:
        """Go on past the targets: what is before them was handed over elsewhere."""
        for tp, target in self._target.items():
            self._position[tp] = max(self._position[tp], target)
            self._consumer.seek(tp, self._position[tp])

    async def _assign_every_partition(self) -> None:
        """Assign what the topics have now: a topic may appear, or gain partitions, later."""
        found = sorted(
            (tp for tp in await self._partitions() if tp not in self._target),
            key=lambda tp: (tp.topic, tp.partition),
        )
        if not found:
            return
        assert self._on_assigned is not None
        resume = await self._on_assigned([Partition(tp.topic, tp.partition) for tp in found])
        self._consumer.assign([*self._target, *found])
        first = await self._consumer.beginning_offsets(found)
        self._target.update(await self._consumer.end_offsets(found))
        for tp in found:
            self._first[tp] = first[tp]
            self._position[tp] = max(first[tp], resume.get(Partition(tp.topic, tp.partition), 0))
        # A new assignment forgets positions: every partition goes back to where it was.
        for tp, offset in self._position.items():
            self._consumer.seek(tp, offset)

    async def _partitions(self) -> list[TopicPartition]:
        admin = AIOKafkaAdminClient(**self._access.options(), client_id="accord-replay")
        await admin.start()
        try:
            described = await admin.describe_topics(self._topics)
        finally:
            await admin.close()
        # A topic nobody has published to yet does not exist: there is nothing to read.
        return [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            if topic["error_code"] == 0
            for partition in topic["partitions"]
        ]

    async def fetch(self, timeout: float, max_records: int) -> list[Message]:
        while True:
            pending = [tp for tp in self._target if self._position[tp] < self._target[tp]]
            if not pending:
                return []
            batches = await self._consumer.getmany(
                *pending, timeout_ms=int(timeout * 1000), max_records=max_records
            )
            messages = []
            for tp, fetched in batches.items():
                records = fetched
                if self._fixed:  # from the target on: what a later part of the rebuild reads
                    records = [r for r in fetched if r.offset < self._target[tp]]
                    if len(records) < len(fetched):
                        self._position[tp] = self._target[tp]
                for r in records:
                    if self._shard is None or self._shard.holds_key(r.key or b""):
                        headers = tuple(r.headers or ())
                        messages.append(
                            Message(r.topic, r.partition, r.offset, r.key, r.value, headers)
                        )
                if records:
                    self._position[tp] = max(self._position[tp], records[-1].offset + 1)
            # A shard reads on past the other shards' messages; a fetch that found nothing
            # answers at once.
            if messages or self._shard is None or not batches:
                return messages

    async def caught_up(self) -> bool:
        for tp, target in self._target.items():
            if self._position[tp] < target:
                # Offsets may skip (control records): the consumer's position is the truth.
                self._position[tp] = max(self._position[tp], await self._consumer.position(tp))
                if self._position[tp] < target:
                    return False
        return True

    async def extend(self, live: dict[Partition, int]) -> None:
        await self._assign_every_partition()
        for partition, offset in live.items():
            tp = TopicPartition(partition.topic, partition.partition)
            if tp in self._target:
                self._target[tp] = max(self._target[tp], offset)

    @property
    def done(self) -> int:
        return sum(
            min(self._position[tp], self._target[tp]) - self._first[tp] for tp in self._target
        )

    @property
    def total(self) -> int:
        return sum(self._target[tp] - self._first[tp] for tp in self._target)

    async def seek(self, positions: dict[Partition, int]) -> None:
        for partition, offset in positions.items():
            tp = TopicPartition(partition.topic, partition.partition)
            if tp in self._target:
                self._position[tp] = offset
                self._consumer.seek(tp, offset)

    async def commit(self, positions: dict[Partition, int]) -> None:
        return None  # no group: the rebuilt schema's offsets table is the only record

    def lag(self) -> int:
        return 0  # a replay feed reports its progress through the progress callback

    async def end_offsets(self) -> dict[Partition, int]:
        return {}  # read by no request (see ProjectionRunner.hurry)

    def assignment(self) -> set[Partition]:
        return {Partition(tp.topic, tp.partition) for tp in self._target}

    async def stop(self) -> None:
        await self._consumer.stop()
