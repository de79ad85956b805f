"""/metrics: how far each projection and outbox relay of a process got, for Prometheus.

Everything is read from the running parts when the endpoint is asked (and the dead letters
from their tables), so nothing is counted on the command path. The embedded default serves
every part's at its root; each `accord serve` process serves its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.projection import ProjectionRunner
from shared.relay import OutboxRelay

log = logging.getLogger(__name__)

Kind = Literal["counter", "gauge"]

# Every metric served: its kind, its one label, and what it means.
METRICS: dict[str, tuple[Kind, str, str]] = {
    "accord_projection_behind_messages": (
        "gauge", "projection",
        "Messages its topics hold that the projection has not applied yet.",
    ),
    "accord_projection_applied_events": (
        "counter", "projection", "Events the projection applied since the process started.",
    ),
    "accord_projection_failing": (
        "gauge", "projection", "1 while the projection's last batch failed (it retries).",
    ),
    "accord_projection_dead_letters": (
        "gauge", "projection", "Events the projection set aside as ones it cannot apply.",
    ),
    "accord_relay_published_events": (
        "counter", "service", "Stored events the service's relay published since it started.",
    ),
    "accord_relay_failing": (
        "gauge", "service", "1 while the service's relay fails to publish (it retries).",
    ),
    "accord_notices": (
        "gauge", "status",
        "Notices waiting to be sent (queued, retrying), or given up on after every attempt"
        " failed (dead_lettered, until requeueNotice).",
    ),
}  # fmt: skip

# A scrape waits at most this long for the dead letters' counts; what did not answer is left out.
READ_SECONDS = 2.0


@dataclass(frozen=True)
class Reading:
    """One value of one metric, for one projection or service."""

    metric: str
    label: str
    value: float


# What a part of the process reports when asked.
Readings = Callable[[], Awaitable[list[Reading]]]


def of_runner(runner: ProjectionRunner) -> list[Reading]:
    name = runner.name
    return [
        Reading("accord_projection_behind_messages", name, runner.consumer.lag()),
        Reading("accord_projection_applied_events", name, runner.applied),
        Reading("accord_projection_failing", name, 1 if runner.last_error else 0),
    ]


def of_relay(service: str, relay: OutboxRelay) -> list[Reading]:
    return [
        Reading("accord_relay_published_events", service, relay.published),
        Reading("accord_relay_failing", service, 1 if relay.last_error else 0),
    ]


async def dead_letters(runners: Sequence[ProjectionRunner]) -> list[Reading]:
    """How many events each runner set aside, one query per pool they share."""
    by_pool: dict[int, tuple[asyncpg.Pool, list[str]]] = {}
    for runner in runners:
        by_pool.setdefault(id(runner.pool), (runner.pool, []))[1].append(runner.name)
    found: list[Reading] = []
    for pool, names in by_pool.values():
        rows = await pool.fetch(
            "SELECT projection, count(*) AS n FROM dead_letters"
            " WHERE projection = ANY($1::text[]) GROUP BY projection",
            names,
        )
        counted = {row["projection"]: row["n"] for row in rows}
        found.extend(Reading("accord_projection_dead_letters", n, counted.get(n, 0)) for n in names)
    return found


async def of_parts(
    runners: Sequence[ProjectionRunner], relays: dict[str, OutboxRelay]
) -> list[Reading]:
    """The readings of these runners and relays, their dead letters counted."""
    readings = [r for runner in runners for r in of_runner(runner)]
    readings += [r for service, relay in relays.items() for r in of_relay(service, relay)]
    return readings + await dead_letters(runners)


def metrics_route(
    parts: Callable[[], Iterable[Readings]], *, seconds: float = READ_SECONDS
) -> Route:
    """GET /metrics: every reading of `parts()` in Prometheus's text format."""

    async def metrics(request: Request) -> Response:
        readings: list[Reading] = []
        for answer in await asyncio.gather(*(_read(part, seconds) for part in parts())):
            readings.extend(answer)
        # The classic text format, or OpenMetrics for a scraper that asks for it.
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(_Families(readings)), headers={"content-type": content_type})

    return Route("/metrics", metrics, methods=["GET"])


async def _read(part: Readings, seconds: float) -> list[Reading]:
    """A part's readings; none from one that fails or does not answer in time (a database
    gone): the others are still served."""
    try:
        async with asyncio.timeout(seconds):
            return await part()
    except Exception as error:  # TimeoutError included
        log.info("metrics: a part did not answer: %s", type(error).__name__)
        return []


class _Families:
    """The readings as metric families, one per metric however many parts report it."""

    def __init__(self, readings: Iterable[Reading]) -> None:
        self._readings = list(readings)

    def collect(self) -> Iterable[Metric]:
        for name, (kind, label, meaning) in METRICS.items():
            family: Any = (CounterMetricFamily if kind == "counter" else GaugeMetricFamily)(
                name, meaning, labels=[label]
            )
            for reading in self._readings:
                if reading.metric == name:
                    family.add_metric([reading.label], reading.value)
            yield family
