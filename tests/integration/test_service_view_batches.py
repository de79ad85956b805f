"""Each service's own views keep the same rows whether a batch of events is applied together or
one event at a time: a whole contract's story of real events, a real PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from services.elicitation import api as elicitation
from services.elicitation.deadlines import DeadlineView, policy_defaults
from services.ranking import api as ranking
from services.ranking.deadlines import WarningView
from shared.bus import Message
from shared.bus_kafka import KafkaConsumer
from shared.database import create_pool
from shared.envelope import to_kafka
from shared.projection import ProjectionRunner
from shared.schemas.registry import topic_for
from shared.service_app import View
from shared.settings import Settings
from tests.integration.gateway.story import (
    AMIRA,
    LI,
    TOM,
    Story,
    assumed,
    baselined,
    deadlines_warned,
    elicitation_story,
    ranking_story,
)


def clock() -> datetime:
    return datetime(2025, 6, 1, tzinfo=UTC)


VIEWS = {
    "elicitation agreed-set": elicitation.AGREED_SET_VIEW,
    "elicitation suspect-links": elicitation.SUSPECT_VIEW,
    "elicitation deadlines": DeadlineView(policy_defaults(Settings()), clock).view,
    "ranking contract-view": ranking.CONTRACT_VIEW,
    "ranking deadlines": ranking.DEADLINES,
    "ranking deadline-warnings": WarningView(Settings(), clock).view,
}
# Counters a batch may number in another order than one event at a time.
ARRIVAL = frozenset({"position"})


def left_open(story: Story) -> None:
    """A third session, still open at the end, with a closing time."""
    i, session = story.ids, str(uuid4())
    story.rank(
        "PrioritizationOpened", session, AMIRA, expectations=[i.scanners, i.trucks],
        voters=[LI, TOM], method="borda", dots=None, closes_at="2025-08-01T17:00:00+00:00",
        opened_by=AMIRA,
    )  # fmt: skip


def story_batches() -> list[list[Message]]:
    """Two contracts' stories interleaved, cut into batches mid-stream."""
    stories = []
    for _ in range(2):
        story = elicitation_story(Story())
        assumed(story)
        deadlines_warned(story)
        baselined(story)
        story = ranking_story(story)
        left_open(story)
        stories.append(story)
    first, second = stories
    elicited = [e for pair in zip(first.elicitation, second.elicitation, strict=True) for e in pair]
    ranked = [*second.ranking, *first.ranking]
    offsets = {"elicitation": 0, "ranking": 0}

    def batch(service: str, envelopes: Sequence[Any]) -> list[Message]:
        topic, first_offset = topic_for(service), offsets[service]
        offsets[service] += len(envelopes)
        return [Message(topic, 0, first_offset + n, *_bytes(e)) for n, e in enumerate(envelopes)]

    cut = len(elicited) // 2
    return [
        batch("ranking", ranked[:5]),
        batch("elicitation", elicited[:cut]),
        batch("ranking", ranked[5:]),
        batch("elicitation", elicited[cut:]),
    ]


def _bytes(envelope: Any) -> tuple[bytes, bytes, tuple[tuple[str, bytes], ...]]:
    key, value, headers = to_kafka(envelope)
    return key, value, tuple(headers)


@pytest.fixture
async def pools(database_url: str) -> AsyncIterator[dict[str, asyncpg.Pool]]:
    made = {way: await create_pool(database_url, f"views_{way}_{uuid4().hex[:8]}") for way in
            ("together", "one_by_one")}  # fmt: skip
    yield made
    for pool in made.values():
        schema = await pool.fetchval("SELECT current_schema()")
        await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()


async def view_rows(pool: asyncpg.Pool) -> dict[str, list[str]]:
    """Every table of the view's schema but the runner's own, rows in a stable order."""
    tables = await pool.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        " AND table_name NOT LIKE 'projection\\_%' AND table_name <> 'dead_letters'"
    )
    rows = {}
    for table in sorted(t["table_name"] for t in tables):
        found = await pool.fetch(f'SELECT * FROM "{table}"')
        kept = [{k: v for k, v in r.items() if k not in ARRIVAL} for r in found]
        rows[table] = sorted(json.dumps(r, sort_keys=True, default=str) for r in kept)
    return rows


@pytest.mark.parametrize("name", VIEWS)
async def test_a_view_keeps_the_same_rows_applied_together_or_one_by_one(
    name: str,
    pools: dict[str, asyncpg.Pool],
    caplog: pytest.LogCaptureFixture,
    kafka_bootstrap: str,
) -> None:
    caplog.set_level(logging.INFO, "shared.projection")
    view: View = VIEWS[name]
    assert view.batching is not None, f"{name} applies no batch together"
    batches = [[m for m in b if m.topic in view.topics] for b in story_batches()]
    kept = {}
    for way, pool in pools.items():
        await pool.execute(view.schema)
        # Batches are handed to apply_batch directly: the broker's consumer is never started.
        consumer = KafkaConsumer(kafka_bootstrap, [], "unused", "tests")
        runner = ProjectionRunner(
            view.name, consumer, pool, view.handler,
            batching=view.batching if way == "together" else None,
        )  # fmt: skip
        await runner.create_tables()
        results = [await runner.apply_batch(batch) for batch in batches if batch]
        await consumer.stop()
        assert sum(r.dead_lettered for r in results) == 0, way
        assert sum(r.applied for r in results) == sum(len(b) for b in batches), way
        kept[way] = await view_rows(pool)

    assert "one by one" not in caplog.text  # every batch went together
    assert any(kept["one_by_one"].values()), f"the story leaves {name} empty"
    assert kept["together"] == kept["one_by_one"]


def test_only_the_views_no_request_reads_linger_as_long_as_a_scheduler_allows() -> None:
    # Requests read these (a baseline's agreed set, a refinement's suspects, a ballot's
    # expectations and roles): they keep the short linger.
    read_by_requests = {
        "elicitation agreed-set", "elicitation suspect-links", "ranking contract-view",
    }  # fmt: skip
    assert {name for name, view in VIEWS.items() if not view.for_scheduler} == read_by_requests
