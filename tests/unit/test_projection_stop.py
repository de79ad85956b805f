"""A projection runner stopped while it waits for messages stops, even when the wait fails
with something else than the cancellation (as an asyncio lock released mid-cancellation does):
no warning, no retry."""

from __future__ import annotations

import asyncio
import logging

import pytest

from shared.bus import Message, Partition
from shared.envelope import Envelope
from shared.projection import ProjectionRunner


class _FailsWhenStopped:
    """A consumer whose wait, cut short by a stop, raises another error; once stopped it finds
    nothing, so a runner that kept going would not hang the test."""

    def __init__(self) -> None:
        self.waiting = asyncio.Event()

    def assignment(self) -> set[Partition]:
        return set()

    async def seek(self, positions: dict[Partition, int]) -> None:
        return None

    async def fetch(self, timeout: float, max_records: int) -> list[Message]:
        if self.waiting.is_set():
            await asyncio.sleep(0.01)
            return []
        self.waiting.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise RuntimeError("Lock is not acquired.") from None
        return []


class _NothingToForget:
    """The read models' pool, as far as a runner with no old event ids to forget uses it."""

    async def fetchval(self, *args: object) -> int:
        return 0


async def _ignore(conn: object, envelope: Envelope) -> None:
    return None


async def test_a_runner_stopped_mid_fetch_stops_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "shared.projection")
    consumer = _FailsWhenStopped()
    runner = ProjectionRunner("stopping", consumer, _NothingToForget(), _ignore)  # type: ignore[arg-type]
    running = asyncio.create_task(runner.run())
    await asyncio.wait_for(consumer.waiting.wait(), timeout=5)
    running.cancel()
    try:
        done, _ = await asyncio.wait([running], timeout=5)
        assert running in done and running.cancelled()  # stopped, not retrying
        assert "batch failed" not in caplog.text and runner.last_error == ""
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
