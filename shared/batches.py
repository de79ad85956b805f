"""Work done batch by batch until cancelled: the loop the outbox relay and the services'
background workers share."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

# A failing batch is tried again after a pause that doubles from the first to the longest.
FIRST_PAUSE = 0.2
LONGEST_PAUSE = 5.0
# The same failure again is logged at most this often (seconds), not at every attempt.
REPEAT_EVERY = 60.0


async def _nothing_to_repair() -> None:
    return None


def being_cancelled() -> bool:
    """Whether the running task was asked to stop (a cancellation not yet delivered): what
    fails meanwhile (a lock left mid-release, a closing pool) is the stop itself, not a fault
    to warn of and retry."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class BatchLoop:
    """Runs `step` (one batch; it answers how many items it handled) until cancelled.

    After a full batch the next one runs at once; otherwise the loop waits `idle_seconds`, or
    less when woken, then `linger` more for what comes after the wake to join the batch. A step
    that fails is tried again after a growing pause, `on_failure` first (the relay recreates
    its producer); meanwhile `last_error` says why, for health checks, and is cleared by the
    next step that succeeds. A failure is logged when it starts or changes, then once every
    REPEAT_EVERY seconds while it lasts, and the recovery once.
    """

    def __init__(
        self,
        name: str,
        step: Callable[[], Awaitable[int]],
        *,
        batch_size: int,
        idle_seconds: float,
        on_failure: Callable[[], Awaitable[None]] = _nothing_to_repair,
        clock: Callable[[], float] = time.monotonic,
        pauses: tuple[float, float] = (FIRST_PAUSE, LONGEST_PAUSE),
        linger: float = 0.0,
    ) -> None:
        self.name = name
        self.step = step
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.linger = linger
        self.on_failure = on_failure
        self.last_error = ""
        self._clock = clock
        # After a failure: the first pause, doubled after each further one up to the longest.
        self._first_pause, self._longest_pause = pauses
        self._failures = 0
        self._logged_at = 0.0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Run the next batch now rather than after the idle wait."""
        self._wake.set()

    async def run(self) -> None:
        pause = self._first_pause
        while True:
            # Cleared before the step: a wake during it makes the next one run at once.
            self._wake.clear()
            try:
                handled = await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if being_cancelled():
                    raise asyncio.CancelledError from error  # the stop, not a failed step
                self._failed(f"{type(error).__name__}: {error}", pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self._longest_pause)
                await self.on_failure()
                continue
            if self._failures:
                log.info("%s: working again after %d failed attempts", self.name, self._failures)
            self.last_error, self._failures = "", 0
            pause = self._first_pause
            if handled < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_seconds)
                    if self.linger:  # woken: what comes meanwhile joins the batch
                        await asyncio.sleep(self.linger)

    def _failed(self, reason: str, pause: float) -> None:
        self._failures += 1
        now = self._clock()
        if reason != self.last_error:
            log.warning("%s: %s; trying again in %.1f s", self.name, reason, pause)
            self._logged_at = now
        elif now - self._logged_at >= REPEAT_EVERY:
            log.warning(
                "%s: still failing after %d attempts: %s", self.name, self._failures, reason
            )
            self._logged_at = now
        self.last_error = reason
