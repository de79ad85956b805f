"""Tasks left running after every part of a process stopped are logged and stopped, so Ctrl-C
still ends the process: also one that lost its first cancellation."""

from __future__ import annotations

import asyncio
import logging

import pytest

from shared.leftovers import stop_leftover_tasks


async def test_a_leftover_task_is_logged_and_cancelled_until_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def loses_one_cancellation() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:  # as a wait that ended while cancelled swallows it
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
        await asyncio.Event().wait()

    async def waits() -> None:
        await asyncio.Event().wait()

    stubborn = asyncio.create_task(loses_one_cancellation())
    plain = asyncio.create_task(waits())
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR):
        assert sorted(await stop_leftover_tasks(5)) == [
            f"{name}.<locals>.{inner}"
            for name, inner in [
                (
                    "test_a_leftover_task_is_logged_and_cancelled_until_it_ends",
                    "loses_one_cancellation",
                ),
                ("test_a_leftover_task_is_logged_and_cancelled_until_it_ends", "waits"),
            ]
        ]
    assert stubborn.cancelled() and plain.cancelled()
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 2 and all("still ran after every part stopped" in m for m in logged)
    assert any("loses_one_cancellation" in m for m in logged)


async def test_nothing_left_is_nothing_said(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert await stop_leftover_tasks(5) == []
    assert caplog.records == []
