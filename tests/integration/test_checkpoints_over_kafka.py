"""A consumer on a real broker checks a service's log with the checkpoint Accord publishes on
accord.audit.v1: the signature with the published public key, the Merkle root against the
records it consumed; a record missing or forged, or a checkpoint altered, fails the check."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.audit import event
from shared.audit.consumer import checkpoint_problem
from shared.audit.keys import published, signing_key
from shared.audit.schedule import TOPIC, CheckpointSchedule
from shared.bus_kafka import KafkaPublisher
from shared.runtime import build_runtime
from shared.schemas import registry
from shared.schemas.registry import ContractSpec, topic_for
from shared.settings import Settings
from tests.integration.kafka_tools import read_topic
from tests.support.notes import Notes

SERVICE = "ckptkit"
NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
# The test service's events, under a service (and topic) of their own.
for name in ("NoteWritten", "NoteRewritten"):
    spec = registry.lookup(f"accord.testkit.{name}.v1")
    registry.register(ContractSpec(SERVICE, name, 1, spec.model, spec.description, spec.example))


class Ckptkit(Notes):
    """Notes stored as the `ckptkit` service's log (schema ckptkit, table ckptkit_events)."""


async def test_a_consumer_verifies_the_published_checkpoint_against_the_records_it_consumed(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=database_url, kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path
    )
    runtime = await build_runtime(SERVICE, Ckptkit, settings, KafkaPublisher(kafka_bootstrap, "r"))
    await runtime.relay.publisher.start()
    for n in range(3):
        note = await runtime.execute(
            runtime.app.write, uuid4(), f"note {n}", actor_id="a", actor_role="r"
        )
        await runtime.execute(runtime.app.rewrite, note, "again", actor_id="a", actor_role="r")
    while await runtime.relay.publish_next_batch():
        pass
    schedule = CheckpointSchedule(
        [SERVICE], settings, KafkaPublisher(kafka_bootstrap, "audit"), clock=lambda: NOW
    )
    await schedule.publisher.start()
    await schedule.step()
    assert await schedule.publish() == 0  # marked published: a later look sends nothing again
    await schedule.publisher.stop()
    await runtime.stop()

    # What an outside consumer has: the key Accord publishes, and the two topics.
    key_as_published = published(signing_key(settings, generate=False).public_key())
    trusted = [Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_as_published["public_key"]))]
    records = [m.envelope() for m in await read_topic(kafka_bootstrap, topic_for(SERVICE))]
    checkpoints = [m.envelope() for m in await read_topic(kafka_bootstrap, TOPIC, key=SERVICE)]
    assert [c.type for c in checkpoints] == ["accord.audit.CheckpointSigned.v1"]
    signed = event.checkpoint_of(checkpoints[0])
    assert signed.size == 6 == len(records)
    assert signed.key_id == key_as_published["key_id"]
    assert checkpoint_problem(signed, records, trusted) is None
    # A repeat of a record (the relay republishes after a crash) is one record.
    assert checkpoint_problem(signed, [*records, records[2]], trusted) is None

    missing = records[:3] + records[4:]
    assert checkpoint_problem(signed, missing, trusted) == (
        "only 5 of the 6 events it covers were received"
    )

    forger = KafkaPublisher(kafka_bootstrap, "forger")
    await forger.start()
    # A record at a covered place, its hash made up to match its new contents.
    forged = replace(records[1], id=str(uuid4()), chain_hash="cd" * 32)
    await forger.publish(topic_for(SERVICE), [forged])
    await forger.stop()
    received = [m.envelope() for m in await read_topic(kafka_bootstrap, topic_for(SERVICE))]
    assert forged.id in {r.id for r in received}
    assert checkpoint_problem(signed, received, trusted) == (
        f"two records claim position {records[1].position} with different hashes"
    )
    # Only the forged one at its place: the root gives it away.
    swapped = [forged if r.id == records[1].id else r for r in records]
    assert checkpoint_problem(signed, swapped, trusted) == (
        "the records' Merkle root is not the signed root"
    )

    altered = signed.model_copy(update={"size": 5})
    assert checkpoint_problem(altered, records, trusted) == (
        "the checkpoint is not signed by a trusted key"
    )
    stranger = Ed25519PrivateKey.generate().public_key()
    assert checkpoint_problem(signed, records, [stranger]) is not None
