"""`accord dev`'s own PostgreSQL killed under it (the OOM killer, a stray kill -9): Accord
starts it again on the same data, its probes answer all along, and nothing committed is lost;
a server that keeps dying stops Accord with a reason rather than leaving it serving errors."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from tests.e2e.accord_process import (
    STOP_TIMEOUT_S,
    accord_env,
    accord_running,
    answer,
    start_accord,
)
from tests.e2e.contract_steps import JOIN, OPEN, PROPOSE
from tests.support.waiting import eventually

TEXTS = """query($c: ID!) { contract(id: $c) { expectations { text } } }"""


def postmaster(data: Path) -> int | None:
    """The pid of the PostgreSQL server on the data folder once it is ready (its postmaster.pid
    says so on its last line), None until then."""
    try:
        lines = (data / "postgres" / "pgdata" / "postmaster.pid").read_text().split()
    except FileNotFoundError:
        return None
    return int(lines[0]) if lines and lines[-1] == "ready" else None


def readiness(url: str) -> int:
    """/readyz's status; a probe that does not answer within 5 s (an orchestrator's timeout)
    fails the test."""
    return httpx.get(url.removesuffix("/graphql") + "/readyz", timeout=5).status_code


async def test_a_killed_database_is_started_again_and_keeps_everything(tmp_path: Path) -> None:
    data = tmp_path / ".accord"
    with accord_running(tmp_path, accord_env(data)) as running:
        url = running.url
        contract = str(answer(url, "am", OPEN)["created"])
        assert answer(url, "am", JOIN, c=contract)["__typename"] == "ContractChanged"
        before = answer(url, "cfo", PROPOSE, c=contract, t="Proposed before the kill")
        assert (before["__typename"], before["consistent"]) == ("ExpectationChanged", True)

        killed = postmaster(data)
        assert killed is not None
        os.kill(killed, signal.SIGKILL)
        answered: list[int] = []

        def ready_again() -> bool:
            answered.append(readiness(url))
            return answered[-1] == 200 and postmaster(data) != killed

        await eventually(ready_again, timeout=60)
        after = answer(url, "cfo", PROPOSE, c=contract, t="Proposed after the restart")
        assert (after["__typename"], after["consistent"]) == ("ExpectationChanged", True)
        texts = {e["text"] for e in answer(url, "am", TEXTS, c=contract)["expectations"]}
        assert texts == {"Proposed before the kill", "Proposed after the restart"}
        assert f"the embedded PostgreSQL (pid {killed}) exited with code -9" in running.output
        assert "the embedded PostgreSQL is back" in running.output
        # Each pool's failed reconnects are one line each (they were a traceback each).
        assert "Traceback" not in running.output, running.output
    # accord_running then stopped it with Ctrl-C: exit 0, "Accord stopped", the server with it.


def test_a_database_that_keeps_dying_stops_accord_with_the_reason(tmp_path: Path) -> None:
    data = tmp_path / ".accord"
    running = start_accord(tmp_path, accord_env(data))
    try:
        first = postmaster(data)
        killed: set[int] = set()
        while running.process.poll() is None and len(killed) < 10:
            pid = postmaster(data)
            # Each server once Accord has it running again: it dies after every start.
            back = pid == first or f"the embedded PostgreSQL is back (pid {pid})" in running.output
            if pid is not None and pid not in killed and back:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            time.sleep(0.05)
        code = running.process.wait(timeout=STOP_TIMEOUT_S)
    finally:
        running.interrupt()
    assert code == 1, running.output
    assert len(killed) == 4  # the first server and three started again
    assert "4 times in a row" in running.output and "not starting it again" in running.output
    assert "Accord stopped: its PostgreSQL kept dying" in running.output
