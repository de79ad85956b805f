"""/metrics serves every part's readings as one family per metric, and a part that fails or
does not answer in time is left out of the scrape rather than failing it."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.testclient import TestClient

from shared.metrics import Reading, Readings, metrics_route


def served(parts: list[Readings]) -> dict[str, list[tuple[str, float]]]:
    app = Starlette(routes=[metrics_route(lambda: parts, seconds=0.2)])
    with TestClient(app) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    return {
        family.name: [(next(iter(s.labels.values())), s.value) for s in family.samples]
        for family in text_string_to_metric_families(response.text)
    }


async def _views() -> list[Reading]:
    return [
        Reading("accord_projection_behind_messages", "elicitation-agreed-set", 3),
        Reading("accord_relay_failing", "elicitation", 0),
    ]


async def _projector() -> list[Reading]:
    return [Reading("accord_projection_behind_messages", "gateway-readmodel", 0)]


async def _broken() -> list[Reading]:
    raise ConnectionError("the database went away")


async def _stuck() -> list[Reading]:
    await asyncio.sleep(10)
    return []


def test_parts_reporting_one_metric_share_its_family() -> None:
    families = served([_views, _projector])
    assert families["accord_projection_behind_messages"] == [
        ("elicitation-agreed-set", 3.0),
        ("gateway-readmodel", 0.0),
    ]
    assert families["accord_relay_failing"] == [("elicitation", 0.0)]
    assert families["accord_relay_published_events"] == []  # declared, nothing reported


def test_a_part_that_fails_or_hangs_is_left_out_in_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="shared.metrics"):
        families = served([_broken, _stuck, _projector])
    assert families["accord_projection_behind_messages"] == [("gateway-readmodel", 0.0)]
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        "metrics: a part did not answer: ConnectionError",
        "metrics: a part did not answer: TimeoutError",
    ]
    assert all(r.exc_info is None for r in caplog.records)
