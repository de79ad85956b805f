"""The e2e helper's Ctrl-C: a process that does not stop is killed, with a warning that shows
where its threads were, so a stop that hangs in CI says why."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.e2e.accord_process import RunningAccord

IGNORES_CTRL_C = (
    "import signal, time\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def test_a_process_that_ignores_ctrl_c_is_killed_with_its_threads_shown() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", IGNORES_CTRL_C], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    with pytest.warns(UserWarning, match=r"did not stop within 0.5 s of Ctrl-C; killed") as told:
        code = RunningAccord(process).interrupt(seconds=0.5)
    assert code == -signal.SIGKILL
    assert "Its threads:" in str(told[0].message)
