"""What an operator's Prometheus reads from `accord dev` at /metrics: how far each projection and
each service's outbox relay got, and what any projection set aside.

Before, a projection that fell behind or failed, or a relay that stopped publishing, showed only
as a /readyz that said "not ready" past a threshold: nothing to graph or alert on earlier.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.accord_process import RunningAccord, accord_env, accord_running, answer
from tests.e2e.contract_steps import JOIN, OPEN, PROPOSE

PROJECTIONS = {
    "gateway-readmodel", "elicitation-agreed-set", "elicitation-suspect-links",
    "ranking-contract-view", "notifications-contract-view",
}  # fmt: skip
SERVICES = {"elicitation", "ranking", "notifications"}


@pytest.fixture(scope="module")
def accord(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAccord]:
    folder = tmp_path_factory.mktemp("metrics")
    with accord_running(folder, accord_env(folder / ".accord")) as running:
        yield running


def scrape(running: RunningAccord, accept: str = "") -> httpx.Response:
    url = running.url.replace("/graphql", "/metrics")
    return httpx.get(url, headers={"accept": accept} if accept else {}, timeout=10)


def samples(running: RunningAccord) -> dict[tuple[str, str], float]:
    """Every sample served, by its name and its one label's value."""
    response = scrape(running)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            [label] = sample.labels.values()
            found[(sample.name, label)] = sample.value
    return found


def until(running: RunningAccord, holds: Any) -> dict[tuple[str, str], float]:
    """The samples once `holds(samples)` is true (what follows a command takes a moment)."""
    for _ in range(100):
        now = samples(running)
        if holds(now):
            return now
        time.sleep(0.1)
    pytest.fail(f"never held: {now}")


def test_every_projection_and_relay_reports_how_far_it_got(accord: RunningAccord) -> None:
    before = samples(accord)
    for projection in PROJECTIONS:
        for metric in ("behind_messages", "applied_events_total", "failing", "dead_letters"):
            assert (f"accord_projection_{metric}", projection) in before, (metric, projection)
    for service in SERVICES:
        assert before[("accord_relay_failing", service)] == 0
        assert ("accord_relay_published_events_total", service) in before

    contract = str(answer(accord.url, "am", OPEN)["created"])
    answer(accord.url, "am", JOIN, c=contract)
    answer(accord.url, "cfo", PROPOSE, c=contract, t="Invoices within a week")

    def caught_up(now: dict[tuple[str, str], float]) -> bool:
        published = now[("accord_relay_published_events_total", "elicitation")]
        was = before[("accord_relay_published_events_total", "elicitation")]
        # The proposal is told to its proposer and the account manager: notices are stored.
        noticed = now[("accord_relay_published_events_total", "notifications")]
        applied = now[("accord_projection_applied_events_total", "gateway-readmodel")]
        behind = [now[("accord_projection_behind_messages", p)] for p in PROJECTIONS]
        # Opened, two people joined, one expectation proposed: four events.
        return published >= was + 4 and noticed > 0 and applied >= 4 and not any(behind)

    after = until(accord, caught_up)
    assert all(after[("accord_projection_failing", p)] == 0 for p in PROJECTIONS)
    assert all(after[("accord_projection_dead_letters", p)] == 0 for p in PROJECTIONS)
    # In-app notices are delivered as they are queued: none waits, none was given up on.
    for status in ("queued", "retrying", "dead_lettered"):
        assert after[("accord_notices", status)] == 0, status


async def test_an_event_set_aside_is_counted(accord: RunningAccord) -> None:
    conn = await asyncpg.connect(accord.database)
    try:
        # As the projector sets aside an event it cannot apply (shared/projection.py).
        await conn.execute(
            'INSERT INTO readmodel.dead_letters (projection, topic, partition, "offset",'
            " headers, ce_type, ce_id, error_type, reason) VALUES ('gateway-readmodel',"
            " 'accord.elicitation', 0, 999999, '{}', 'accord.elicitation.Unknown.v1',"
            " 'poison', 'KeyError', 'set aside by the test')"
        )
    finally:
        await conn.close()
    assert samples(accord)[("accord_projection_dead_letters", "gateway-readmodel")] == 1


async def test_a_notice_given_up_on_is_counted(accord: RunningAccord) -> None:
    contract = str(answer(accord.url, "am", OPEN)["created"])
    answer(accord.url, "am", JOIN, c=contract)
    answer(accord.url, "cfo", PROPOSE, c=contract, t="Reports by the fifth")
    conn = await asyncpg.connect(accord.database)
    try:
        # As the delivery worker records a notice every attempt failed for.
        for _ in range(100):  # the proposal's notices are queued a moment after it
            given_up = await conn.execute(
                "UPDATE notifications.notices SET status = 'dead_lettered', attempts = 5"
                " WHERE notice_id = (SELECT notice_id FROM notifications.notices"
                " WHERE contract_id = $1 LIMIT 1)",
                contract,
            )
            if given_up == "UPDATE 1":
                break
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    assert given_up == "UPDATE 1"
    assert samples(accord)[("accord_notices", "dead_lettered")] == 1


def test_a_scraper_that_asks_for_openmetrics_gets_it(accord: RunningAccord) -> None:
    response = scrape(accord, "application/openmetrics-text; version=1.0.0")
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")
    assert "accord_projection_behind_messages" in response.text
