"""The chain on the wire: records on a real broker carry their hash and their predecessor's,
and a consumer finds a forged record among them."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

from shared.audit.consumer import chain_breaks
from shared.bus_kafka import KafkaPublisher
from shared.runtime import build_runtime
from shared.settings import Settings
from tests.integration.kafka_tools import read_topic
from tests.support.notes import Notes

TOPIC = "accord.testkit.v1"


async def test_a_forged_record_on_the_topic_breaks_the_chain_a_consumer_checks(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)
    runtime = await build_runtime("testkit", Notes, settings, KafkaPublisher(kafka_bootstrap, "t"))
    await runtime.relay.publisher.start()
    contract_id = uuid4()
    note = await runtime.execute(runtime.app.write, contract_id, "v1", actor_id="a", actor_role="r")
    for text in ("v2", "v3"):
        await runtime.execute(runtime.app.rewrite, note, text, actor_id="a", actor_role="r")
    while await runtime.relay.publish_next_batch():
        pass
    await runtime.stop()

    published = [
        m.envelope() for m in await read_topic(kafka_bootstrap, TOPIC, key=str(contract_id))
    ]
    assert [e.sequence for e in published] == [1, 2, 3]
    assert all(len(e.chain_hash) == 64 for e in published)
    assert [e.previous_hash for e in published[1:]] == [e.chain_hash for e in published[:2]]
    assert chain_breaks(published) == []

    forger = KafkaPublisher(kafka_bootstrap, "forger")
    await forger.start()
    await forger.publish(
        TOPIC,
        [
            # A version 4 that follows no stored version 3.
            replace(published[2], id=str(uuid4()), sequence=4, previous_hash="ab" * 32,
                    chain_hash="cd" * 32, data={"text": "forged", "reason": ""}),
            # Version 2 again, its hash copied, saying something else.
            replace(published[1], data={"text": "rewritten history", "reason": ""}),
        ],
    )  # fmt: skip
    await forger.stop()
    received = [
        m.envelope() for m in await read_topic(kafka_bootstrap, TOPIC, key=str(contract_id))
    ]
    breaks = chain_breaks(received)
    assert [(b.sequence, b.offset) for b in breaks] == [
        (4, received[3].offset),
        (2, received[4].offset),
    ]
