"""One merge, one record: ExpectationsMerged is stored on both expectations' streams (each
history tells the whole story) and published once on a real broker, from the kept
expectation's stream, carrying the merged one's stored copy. A consumer counting merges counts
one; the chain and the signed checkpoint still check out over every stored event; the
gateway's read models, fed the records, show both sides of the merge."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.elicitation.application import Elicitation
from services.gateway.projections.schema import create_tables
from services.gateway.projector import build_projector
from shared.audit import event
from shared.audit.consumer import chain_breaks, checkpoint_problem
from shared.audit.keys import published, signing_key
from shared.audit.schedule import TOPIC as CHECKPOINTS
from shared.audit.schedule import CheckpointSchedule
from shared.bus import Message
from shared.bus_kafka import KafkaPublisher
from shared.database import create_pool
from shared.runtime import build_runtime
from shared.settings import Settings
from tests.integration.gateway.projecting import OwnGroupBus
from tests.integration.kafka_tools import read_topic
from tests.integration.services_in_one import own_database
from tests.unit.elicitation.story import AMIRA, LI, TOM, Story

TOPIC = "accord.elicitation.v1"
MERGED = "accord.elicitation.ExpectationsMerged.v1"


async def own_settings(
    database_url: str, kafka_bootstrap: str, tmp_path: Path, **more: Any
) -> Settings:
    """A database of the test's own (its store and checkpoints hold only its contract)."""
    return Settings(
        database_url=await own_database(database_url),
        kafka_bootstrap=kafka_bootstrap,
        data_dir=tmp_path,
        **more,
    )


async def merged_on_the_broker(
    settings: Settings, tmp_path: Path
) -> tuple[Story, UUID, UUID, list[Message]]:
    """A contract whose two duplicates were merged, relayed and checkpointed on the broker."""
    publisher = KafkaPublisher(settings.kafka_bootstrap, "merge-tests")
    runtime = await build_runtime("elicitation", Elicitation, settings, publisher)
    await publisher.start()
    try:
        story = Story(runtime.app)
        kept, duplicate = story.proposed(by=LI), story.proposed("Scanners mended quickly", by=TOM)
        story.do(runtime.app.merge_expectations, kept, duplicate, by=AMIRA, reason="the same ask")
        story.do(runtime.app.withdraw_expectation, kept, by=LI, reason="covered elsewhere")
        while await runtime.relay.publish_next_batch():
            pass
    finally:
        await runtime.stop()
    schedule = CheckpointSchedule(
        ["elicitation"], settings, KafkaPublisher(settings.kafka_bootstrap, "audit")
    )
    await schedule.publisher.start()
    await schedule.step()
    await schedule.publisher.stop()
    messages = await read_topic(settings.kafka_bootstrap, TOPIC, key=str(story.contract_id))
    return story, kept, duplicate, messages


async def test_a_merge_is_one_record_that_still_proves_both_stored_events(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = await own_settings(database_url, kafka_bootstrap, tmp_path)
    _, kept, duplicate, messages = await merged_on_the_broker(settings, tmp_path)
    records = [m.envelope() for m in messages]

    merges = [r for r in records if r.type == MERGED]
    assert len(merges) == 1  # a consumer counting merges counts one
    [merge] = merges
    assert merge.subject == str(kept) == merge.data["kept_expectation_id"]
    [copy] = merge.copies
    assert copy.subject == str(duplicate) == merge.data["merged_expectation_id"]
    assert copy.sequence == 2 and len(copy.hash) == 64 and copy.position > 0
    assert dict(messages[records.index(merge)].headers)["ce_accordcopies"]

    # Both stored events, as the store holds them: each stream's chain has no hole.
    stored = [e for r in records for e in r.stored_events()]
    assert [(e.subject, e.sequence) for e in stored if e.type == MERGED] == [
        (str(kept), 2),
        (str(duplicate), 2),
    ]
    assert len(stored) == len(records) + 1
    assert chain_breaks(records) == []

    # The signed checkpoint covers every stored event: a record stripped of its copy is seen.
    key = published(signing_key(settings, generate=False).public_key())
    trusted = [Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["public_key"]))]
    checkpoints = [
        event.checkpoint_of(m.envelope())
        for m in await read_topic(kafka_bootstrap, CHECKPOINTS, key="elicitation")
    ]
    signed = next(c for c in checkpoints if c.size == len(stored))
    assert checkpoint_problem(signed, records, trusted) is None
    stripped = [replace(r, copies=()) if r is merge else r for r in records]
    assert checkpoint_problem(signed, stripped, trusted) == (
        f"only {len(records)} of the {len(stored)} events it covers were received"
    )
    # A copy that claims another stored event's hash breaks the root.
    altered = replace(merge, copies=(replace(copy, hash="ab" * 32),))
    assert checkpoint_problem(signed, [altered if r is merge else r for r in records], trusted)


async def test_the_read_models_fed_the_one_record_show_both_sides_of_the_merge(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    # The relay reads on past a batch that cuts a fact's copies apart.
    settings = await own_settings(database_url, kafka_bootstrap, tmp_path, relay_batch_size=1)
    story, kept, duplicate, messages = await merged_on_the_broker(settings, tmp_path)
    pool: asyncpg.Pool = await create_pool(settings.database_url, "readmodel")
    try:
        async with pool.acquire() as conn:
            await create_tables(conn)
        runner = build_projector(settings, OwnGroupBus(kafka_bootstrap), pool)
        await runner.create_tables()
        result = await runner.apply_batch(messages)
        assert result.dead_lettered == 0
        # Delivered again (a relay that crashed mid-batch): nothing applies twice.
        await runner.apply_batch(messages)

        rows = await pool.fetch(
            "SELECT expectation_id, status, merged_into, merged_from FROM expectations"
            " WHERE contract_id = $1",
            str(story.contract_id),
        )
        by_id = {r["expectation_id"]: r for r in rows}
        assert by_id[str(duplicate)]["status"] == "merged"
        assert by_id[str(duplicate)]["merged_into"] == str(kept)
        assert list(by_id[str(kept)]["merged_from"]) == [str(duplicate)]
        assert by_id[str(kept)]["status"] == "withdrawn"

        logged = await pool.fetch(
            "SELECT subject, sequence, log_position FROM audit_log WHERE event_type = $1"
            " ORDER BY log_position",
            MERGED,
        )
        merge = next(m.envelope() for m in messages if m.envelope().type == MERGED)
        assert [(r["subject"], r["sequence"], r["log_position"]) for r in logged] == [
            (e.subject, e.sequence, e.position) for e in merge.stored_events()
        ]
    finally:
        await pool.close()
