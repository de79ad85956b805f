"""The projector process: health, its tables, and a NOTIFY after each batch it commits."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from services.gateway.projector import NOTIFY_CHANNEL, PROJECTION
from services.gateway.projector_app import create_app
from shared.bus_kafka import KafkaPublisher
from shared.schemas.registry import topic_for
from shared.settings import Settings
from tests.integration.gateway.projecting import OwnGroupBus
from tests.integration.gateway.story import Story, elicitation_story


async def test_the_projector_is_ready_and_notifies_once_its_batch_is_committed(
    settings: Settings, schema: str, publisher: KafkaPublisher
) -> None:
    app = create_app(settings, OwnGroupBus(settings.kafka_bootstrap), schema=schema)
    listener = await asyncpg.connect(settings.database_url)
    notified: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: notified.put_nowait(args[3]))
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
                assert (await client.get("/healthz")).status_code == 200
                ready = await client.get("/readyz")
                assert ready.status_code == 200, ready.text
                assert ready.json()["checks"] == {"database": "ok", "projector": "ok"}

            story = elicitation_story(Story())
            await publisher.publish(topic_for("elicitation"), story.elicitation[:1])
            async with asyncio.timeout(60):
                while True:
                    assert await notified.get() == PROJECTION
                    # Sent inside the batch's transaction: once heard, the rows are there.
                    found = await listener.fetchval(
                        f'SELECT count(*) FROM "{schema}".contracts WHERE contract_id = $1',
                        story.ids.contract,
                    )
                    if found:
                        break
    finally:
        await listener.close()
        cleanup = await asyncpg.connect(settings.database_url)
        await cleanup.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await cleanup.close()
