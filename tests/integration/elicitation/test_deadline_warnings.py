"""Deadline warnings on elicitation's dated promises, on real PostgreSQL, with the worker's
clock moved by the test: each threshold fires once at its instant, a kept promise stops its
timer, two workers raise a warning once, and a restarted worker resumes where it was."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from services.elicitation.application import Elicitation
from services.elicitation.deadlines import DeadlineView, policy_defaults
from shared.bus_kafka import KafkaBus
from shared.database import create_pool
from shared.deadlines.timing import due_at_end_of, instant
from shared.deadlines.worker import raise_due
from shared.envelope import Envelope
from shared.relay import envelope_of
from shared.runtime import ServiceRuntime, build_runtime
from shared.settings import Settings
from tests.unit.elicitation.story import AMIRA, LI, Story

SERVICE = "elicitation"


@dataclass
class Worker:
    """One elicitation process: its runtime, its pool and its deadline view."""

    runtime: ServiceRuntime[Elicitation]
    pool: asyncpg.Pool
    view: DeadlineView
    seen: int = 0

    async def catch_up(self) -> None:
        """Apply every stored event the view has not seen, as its projection runner would."""
        app = self.runtime.app
        notifications = app.recorder.select_notifications(start=self.seen + 1, limit=10_000)
        async with self.pool.acquire() as conn:
            for notification in notifications:
                await self.view.apply(conn, envelope_of(app, SERVICE, notification))
                self.seen = notification.id

    async def raise_at(self, now: datetime) -> None:
        await self.catch_up()
        await raise_due(self.runtime, self.pool, self.view.timers, self.view.still_open, now)
        await self.catch_up()

    def warnings(self, item_id: UUID) -> list[Envelope]:
        app = self.runtime.app
        found = [
            envelope_of(app, SERVICE, n)
            for n in app.recorder.select_notifications(start=1, limit=100_000)
        ]
        return [
            e
            for e in found
            if e.spec.name.startswith("Deadline") and e.data.get("item_id") == str(item_id)
        ]


@pytest.fixture
async def start_worker(database_url: str, kafka_bootstrap: str) -> AsyncIterator[Any]:
    settings = Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)
    started: list[Worker] = []

    async def start() -> Worker:
        publisher = KafkaBus(kafka_bootstrap).publisher(SERVICE)
        await publisher.start()
        runtime = await build_runtime(SERVICE, Elicitation, settings, publisher)
        pool = await create_pool(database_url, SERVICE)
        view = DeadlineView(policy_defaults(settings), lambda: datetime.now(UTC))
        await pool.execute(view.view.schema)
        worker = Worker(runtime, pool, view)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        await worker.pool.close()
        await worker.runtime.stop()


def thresholds(envelopes: list[Envelope]) -> list[int | None]:
    return [e.data.get("threshold") for e in envelopes]


def accepted_obligation(story: Story, due_on: date) -> UUID:
    obligation: UUID = story.do(
        story.app.propose_obligation, story.contract_id, by=AMIRA,
        what="Read access to the ticket export", needed_from=LI, due_on=due_on,
    ).id  # fmt: skip
    story.do(story.app.accept_obligation, obligation, by=LI)
    return obligation


async def test_an_accepted_obligation_warns_at_half_three_quarters_and_its_due_date_once_each(
    start_worker: Any,
) -> None:
    worker: Worker = await start_worker()
    story = Story(worker.runtime.app)
    due_on = date.today() + timedelta(days=10)
    obligation = accepted_obligation(story, due_on)
    await worker.catch_up()
    starts = datetime.now(UTC)
    due = due_at_end_of(due_on)

    await worker.raise_at(instant(starts, due, 49) - timedelta(minutes=5))
    assert worker.warnings(obligation) == []
    await worker.raise_at(instant(starts, due, 50) + timedelta(seconds=1))
    await worker.raise_at(instant(starts, due, 60))
    assert thresholds(worker.warnings(obligation)) == [50]
    await worker.raise_at(instant(starts, due, 75) + timedelta(seconds=1))
    await worker.raise_at(due + timedelta(seconds=1))
    await worker.raise_at(due + timedelta(days=3))

    raised = worker.warnings(obligation)
    assert [e.spec.name for e in raised] == [
        "DeadlineApproaching", "DeadlineApproaching", "DeadlineMissed",
    ]  # fmt: skip
    assert thresholds(raised) == [50, 75, None]
    first = raised[0].data
    assert first["kind"] == "obligation" and first["owner"] == LI
    assert (
        first["due_at"].startswith(due_on.isoformat())
        or datetime.fromisoformat(first["due_at"]) == due
    )
    assert first["contract_id"] == str(story.contract_id)


async def test_a_fulfilled_obligation_raises_nothing_after(start_worker: Any) -> None:
    worker: Worker = await start_worker()
    story = Story(worker.runtime.app)
    due_on = date.today() + timedelta(days=4)
    obligation = accepted_obligation(story, due_on)
    await worker.catch_up()
    starts, due = datetime.now(UTC), due_at_end_of(due_on)
    await worker.raise_at(instant(starts, due, 55))
    story.do(story.app.fulfil_obligation, obligation, by=AMIRA, note="Access granted")

    # Kept before the view learned of it: the worker asks the obligation itself.
    await raise_due(
        worker.runtime, worker.pool, worker.view.timers, worker.view.still_open,
        instant(starts, due, 80),
    )  # fmt: skip
    await worker.raise_at(due + timedelta(days=1))

    assert thresholds(worker.warnings(obligation)) == [50]


async def test_two_workers_raise_each_warning_once(start_worker: Any) -> None:
    one: Worker = await start_worker()
    other: Worker = await start_worker()
    story = Story(one.runtime.app)
    due_on = date.today() + timedelta(days=6)
    obligation = accepted_obligation(story, due_on)
    await one.catch_up()
    await other.catch_up()
    starts, due = datetime.now(UTC), due_at_end_of(due_on)

    for at in (instant(starts, due, 51), instant(starts, due, 76), due + timedelta(seconds=1)):
        await asyncio.gather(one.raise_at(at), other.raise_at(at))

    assert thresholds(one.warnings(obligation)) == [50, 75, None]


async def test_a_restarted_worker_resumes_without_raising_again(start_worker: Any) -> None:
    first: Worker = await start_worker()
    story = Story(first.runtime.app)
    due_on = date.today() + timedelta(days=8)
    obligation = accepted_obligation(story, due_on)
    starts, due = datetime.now(UTC), due_at_end_of(due_on)
    await first.raise_at(instant(starts, due, 52))

    restarted: Worker = await start_worker()
    # Its view is kept in PostgreSQL: it resumes from where the first left it...
    await restarted.raise_at(instant(starts, due, 53))
    assert thresholds(restarted.warnings(obligation)) == [50]
    # ...and even a view that lost track (rebuilt from scratch) cannot raise a warning twice.
    await restarted.pool.execute(
        "UPDATE deadline_timers SET passed = 0 WHERE item_id = $1", obligation
    )
    await restarted.view.timers.refresh(restarted.pool, obligation, 0)  # type: ignore[arg-type]
    await raise_due(
        restarted.runtime, restarted.pool, restarted.view.timers, restarted.view.still_open,
        instant(starts, due, 53),
    )  # fmt: skip
    await restarted.raise_at(instant(starts, due, 76))
    assert thresholds(restarted.warnings(obligation)) == [50, 75]
