"""The Kafka bus: an idempotent producer (acks=all) and consumer-group members (manual commits)."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tenacity
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.helpers import create_ssl_context
from aiokafka.structs import OffsetAndMetadata

from shared.bus import Message, OnAssigned, Partition
from shared.envelope import Envelope, to_kafka
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KafkaAccess:
    """How Accord's clients reach the cluster: its address and, when it asks for them, TLS
    and SASL credentials (ACCORD_KAFKA_SECURITY_PROTOCOL and friends)."""

    bootstrap: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    username: str = ""
    password: str = field(default="", repr=False)
    cafile: Path | None = None

    @classmethod
    def of(cls, settings: Settings) -> KafkaAccess:
        return cls(
            bootstrap=settings.kafka_bootstrap,
            security_protocol=settings.kafka_security_protocol,
            sasl_mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password.get_secret_value(),
            cafile=settings.kafka_ssl_cafile,
        )

    def options(self) -> dict[str, Any]:
        """The connection options of every aiokafka client."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol.startswith("SASL"):
            options.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.username,
                sasl_plain_password=self.password,
            )
        if self.security_protocol.endswith("SSL"):
            cafile = str(self.cafile) if self.cafile else None
            options["ssl_context"] = create_ssl_context(cafile=cafile)
        return options


def access(cluster: str | KafkaAccess) -> KafkaAccess:
    """A bare address is a cluster that asks for nothing."""
    return cluster if isinstance(cluster, KafkaAccess) else KafkaAccess(cluster)


class KafkaPublisher:
    durable = True

    def __init__(self, cluster: str | KafkaAccess, client_id: str) -> None:
        self._access = access(cluster)
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None

    def _create(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **self._access.options(),
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            request_timeout_ms=15000,
        )

    async def start(self) -> None:
        if self._producer is not None:
            return
        producer = self._create()
        await producer.start()
        self._producer = producer

    async def publish(self, topic: str, envelopes: Sequence[Envelope]) -> None:
        """Send in order and wait until every message is acknowledged by all in-sync replicas."""
        if self._producer is None:
            raise RuntimeError("the publisher is not started")
        pending = []
        for envelope in envelopes:
            key, value, headers = to_kafka(envelope)
            pending.append(await self._producer.send(topic, value, key=key, headers=headers))
        await asyncio.gather(*pending)

    async def reset(self) -> None:
        await self.stop()
        await self.start()

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            # A broken producer may fail to close, or wait on a broker that is away: drop it.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(10):
                    await producer.stop()


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: KafkaConsumer, on_assigned: OnAssigned) -> None:
        self._consumer = consumer
        self._on_assigned = on_assigned

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self._consumer.resumed -= {Partition(tp.topic, tp.partition) for tp in revoked}

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Seek each partition to where the caller resumes it. A caller that cannot say (its
        database away) is asked again: aiokafka would only log the failure, and the partitions
        would stay held back (nothing of them is handed out until they are sought)."""
        partitions = sorted(Partition(tp.topic, tp.partition) for tp in assigned)
        retrying = tenacity.AsyncRetrying(
            wait=tenacity.wait_exponential(multiplier=0.2, max=5),
            stop=tenacity.stop_after_delay(RESUME_SECONDS),
            before_sleep=_resume_failed,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                resume = await self._on_assigned(partitions)
        await self._consumer.seek(resume)


# How long a newly assigned partition's caller is asked where to resume before giving up (the
# partition then stays held back until the next rebalance, its lag showing in readiness).
RESUME_SECONDS = 60.0


def _resume_failed(state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning("where to resume the assigned partitions could not be read, again: %s", error)


class KafkaConsumer:
    """A consumer-group member; where to resume comes from the caller (stored with the data)."""

    def __init__(
        self, cluster: str | KafkaAccess, topics: Sequence[str], group: str, client_id: str
    ) -> None:
        self._topics = list(topics)
        self._access = access(cluster)
        self._client_id = client_id
        # Asks the broker where partitions end (see end_offsets), made when first needed; made
        # in a task of its own, so a caller cut short (a request's wait) leaves no half-made one.
        self._ends: asyncio.Task[AIOKafkaConsumer] | None = None
        self._consumer = AIOKafkaConsumer(
            **self._access.options(),
            group_id=group,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            metadata_max_age_ms=5000,
        )
        # The next offset this member will hand out, per partition: for its lag.
        self._next: dict[Partition, int] = {}
        # The assigned partitions sought to where the caller said to resume. The client fetches
        # a partition from its earliest offset as soon as it is assigned, while the caller may
        # still be reading its stored offsets: what it fetches meanwhile is not handed out.
        self.resumed: set[Partition] = set()

    async def start(self, on_assigned: OnAssigned) -> None:
        await self._consumer.start()
        self._consumer.subscribe(self._topics, listener=_Rebalance(self, on_assigned))

    async def fetch(self, timeout: float, max_records: int) -> list[Message]:
        batches = await self._consumer.getmany(
            timeout_ms=int(timeout * 1000), max_records=max_records
        )
        # Each partition's records keep their order; across partitions they go in the order
        # they were published (their timestamps), as far as one fetch holds them: a view of two
        # services' events applies a ranking published before a measurement first, as the
        # in-process bus does (Kafka orders nothing across partitions).
        # Nothing of a partition not yet sought to where the caller resumes, nor before that
        # offset (fetched before the seek, handed out after it), is handed out.
        runs = [
            [(r.timestamp, r) for r in records if r.offset >= self._next.get(partition, 0)]
            for partition, records in (
                (Partition(tp.topic, tp.partition), records) for tp, records in batches.items()
            )
            if partition in self.resumed
        ]
        messages = [
            Message(r.topic, r.partition, r.offset, r.key, r.value, tuple(r.headers or ()))
            for _, r in heapq.merge(*runs, key=lambda stamped: stamped[0])
        ]
        for message in messages:
            self._next[Partition(message.topic, message.partition)] = message.offset + 1
        return messages

    async def seek(self, positions: dict[Partition, int]) -> None:
        assigned = self._consumer.assignment()
        for partition, offset in positions.items():
            tp = TopicPartition(partition.topic, partition.partition)
            if tp in assigned:
                self._consumer.seek(tp, offset)
                self._next[partition] = offset
                self.resumed.add(partition)

    async def commit(self, positions: dict[Partition, int]) -> None:
        assigned = self._consumer.assignment()
        offsets = {
            TopicPartition(p.topic, p.partition): OffsetAndMetadata(offset, "")
            for p, offset in positions.items()
            if TopicPartition(p.topic, p.partition) in assigned
        }
        if offsets:
            await self._consumer.commit(offsets)

    def assignment(self) -> set[Partition]:
        return {Partition(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def lag(self) -> int:
        behind = 0
        for tp in self._consumer.assignment():
            end = self._consumer.highwater(tp)  # known once a fetch from it returned
            fetched = self._next.get(Partition(tp.topic, tp.partition))
            if end is not None and fetched is not None:
                behind += max(0, end - fetched)
        return behind

    async def end_offsets(self) -> dict[Partition, int]:
        """Asked of the broker through a client of its own: on the member's connection the
        request would queue behind the fetch the broker holds open for new messages (up to half
        a second). Accord's relays publish without transactions, so no control record ever
        takes an offset that no message will come with."""
        assigned = list(self._consumer.assignment())
        if not assigned:
            return {}
        if self._ends is None or _failed(self._ends):  # made again after a failed start
            self._ends = asyncio.create_task(self._ends_client())
        client = await asyncio.shield(self._ends)
        ends = await client.end_offsets(assigned)
        return {Partition(tp.topic, tp.partition): int(end) for tp, end in ends.items()}

    async def _ends_client(self) -> AIOKafkaConsumer:
        client = AIOKafkaConsumer(
            **self._access.options(), client_id=f"{self._client_id}-ends",
            enable_auto_commit=False, isolation_level="read_committed",
        )  # fmt: skip
        await client.start()
        return client

    async def stop(self) -> None:
        await self._consumer.stop()
        making, self._ends = self._ends, None
        if making is None:
            return
        if not making.done():
            making.cancel()
        await asyncio.gather(making, return_exceptions=True)
        if not _failed(making):
            await making.result().stop()


def _failed(task: asyncio.Task[AIOKafkaConsumer]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


class KafkaBus:
    """Publishers and consumer-group members on one Kafka cluster."""

    def __init__(self, cluster: str | KafkaAccess, client_id: str = "accord") -> None:
        self.access = access(cluster)
        # Prefixes every client's id, so the broker's logs, metrics and quotas tell deployments
        # (and each deployment's services and groups) apart.
        self.client_id = client_id

    def publisher(self, client_id: str) -> KafkaPublisher:
        return KafkaPublisher(self.access, f"{self.client_id}-{client_id}")

    def consumer(self, topics: Sequence[str], group: str) -> KafkaConsumer:
        return KafkaConsumer(self.access, topics, group, client_id=f"{self.client_id}-{group}")
