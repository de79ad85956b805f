"""The loop the relay and the workers share: full batches back to back, a wait otherwise
(cut short by a wake), and a failing step retried after a pause, its reason kept meanwhile."""

from __future__ import annotations

import asyncio
import logging

import pytest

from shared.batches import BatchLoop

# Loop time is fake in these tests (looptime): a wait of 30 s passes at once, and nothing
# runs early or late by the host's speed. Each test has a loop of its own: on the session's
# loop, what other tests left listening keeps the fake time in step with the real one.
pytestmark = [pytest.mark.looptime, pytest.mark.asyncio(loop_scope="function")]


def at(*seconds: float) -> object:
    """Loop times, give or take what real I/O on the loop may add (the loop is the test's own,
    so none is expected)."""
    return pytest.approx(list(seconds), abs=0.5)


async def test_full_batches_run_back_to_back_and_a_partial_one_waits_until_woken() -> None:
    sizes = iter([3, 3, 1, 0, 0])
    ran: list[float] = []
    start = asyncio.get_running_loop().time()

    async def step() -> int:
        ran.append(asyncio.get_running_loop().time() - start)
        return next(sizes, 0)

    loop = BatchLoop("test", step, batch_size=3, idle_seconds=30)
    task = asyncio.create_task(loop.run())
    try:
        await asyncio.sleep(29)
        assert ran == at(0, 0, 0)  # back to back; after the partial batch it waits (30 s idle)...
        loop.wake()
        await asyncio.sleep(1)
        assert ran == at(0, 0, 0, 29)  # ...until woken
        await asyncio.sleep(30)
        assert ran == at(0, 0, 0, 29, 59)  # ...or until its idle time is up
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_lingering_loop_takes_what_wakes_it_meanwhile_in_one_batch() -> None:
    ran: list[float] = []
    start = asyncio.get_running_loop().time()

    async def step() -> int:
        ran.append(asyncio.get_running_loop().time() - start)
        return 0

    loop = BatchLoop("test", step, batch_size=3, idle_seconds=30, linger=3.0)
    task = asyncio.create_task(loop.run())
    try:
        await asyncio.sleep(1)
        for _ in range(3):  # three wakes 0.05 s apart, as three stored events would ring
            loop.wake()
            await asyncio.sleep(0.05)
        assert ran == at(0)  # lingering after the first
        await asyncio.sleep(5)
        assert ran == at(0, 4.0)  # one batch for all three, after the linger
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def run_until_taken(loop: BatchLoop, outcomes: list[Exception | int]) -> None:
    """Run the loop until its steps took every outcome, and a moment more; then stop it."""
    task = asyncio.create_task(loop.run())
    try:
        async with asyncio.timeout(5):
            while outcomes:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_failing_step_is_retried_after_a_pause_and_its_reason_kept() -> None:
    outcomes: list[Exception | int] = [ConnectionError("broker away"), ConnectionError("still"), 0]
    repairs = 0
    seen_errors: list[str] = []

    async def step() -> int:
        outcome = outcomes.pop(0) if outcomes else 0
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def repair() -> None:
        nonlocal repairs
        repairs += 1
        seen_errors.append(loop.last_error)

    loop = BatchLoop(
        "test", step, batch_size=10, idle_seconds=30, on_failure=repair, pauses=(0.01, 0.01)
    )
    await run_until_taken(loop, outcomes)
    assert repairs == 2
    assert seen_errors == ["ConnectionError: broker away", "ConnectionError: still"]
    assert loop.last_error == ""  # the step that succeeded cleared it


async def test_a_lasting_failure_is_logged_when_it_starts_now_and_then_and_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = 0.0
    # Ten attempts 10 s apart by the clock fail alike, one fails otherwise, then it works.
    outcomes: list[Exception | int] = [
        *(RuntimeError("stored event refused") for _ in range(10)),
        ConnectionError("database away"),
        0,
    ]

    async def step() -> int:
        nonlocal now
        now += 10.0
        outcome = outcomes.pop(0) if outcomes else 0
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    loop = BatchLoop(
        "relay test", step, batch_size=10, idle_seconds=30, clock=lambda: now, pauses=(0, 0)
    )
    with caplog.at_level(logging.INFO, logger="shared.batches"):
        await run_until_taken(loop, outcomes)
    said = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert said == [
        ("WARNING", "relay test: RuntimeError: stored event refused; trying again in 0.0 s"),
        (
            "WARNING",
            "relay test: still failing after 7 attempts: RuntimeError: stored event refused",
        ),
        ("WARNING", "relay test: ConnectionError: database away; trying again in 0.0 s"),
        ("INFO", "relay test: working again after 11 failed attempts"),
    ]
    assert loop.last_error == ""


async def test_a_step_that_fails_as_the_loop_is_stopped_stops_it_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = asyncio.Event()

    async def step() -> int:
        if started.is_set():  # stopped once already: a loop still going finds nothing
            return 0
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:  # what a lock left mid-release raises instead
            raise RuntimeError("Lock is not acquired.") from None
        return 0

    loop = BatchLoop("test", step, batch_size=3, idle_seconds=30, pauses=(0.01, 0.01))
    task = asyncio.create_task(loop.run())
    await asyncio.wait_for(started.wait(), timeout=5)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=5)
    try:
        assert task in done and task.cancelled()
        assert "Lock is not acquired" not in caplog.text and loop.last_error == ""
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
