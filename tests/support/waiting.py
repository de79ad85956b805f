"""Waiting in tests for what happens elsewhere (another task, thread or process)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def eventually(
    condition: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 60
) -> None:
    """Poll until the condition holds; fail the test after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            outcome = condition()
            if not isinstance(outcome, bool):
                outcome = await outcome
            if outcome:
                return
            await asyncio.sleep(0.2)
