"""A setting the environment gets wrong stops any `accord` command with one line that names
the variable, its value and why, and exit code 2: no traceback, nothing started. A command
that talks to a running Accord says in one line when none answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.accord_process import accord_env, free_port


@pytest.mark.parametrize(
    ("command", "variable", "value", "why"),
    [
        (["dev"], "ACCORD_PORT", "", "valid integer"),
        (["replay", "--source", "store"], "ACCORD_REPLAY_PROCESSES", "0", "greater than or equal"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_it(
    tmp_path: Path, command: list[str], variable: str, value: str, why: str
) -> None:
    env = accord_env() | {variable: value}
    ran = subprocess.run(
        [sys.executable, "-m", "accord", *command],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ran.returncode == 2, ran.stderr
    assert "Traceback" not in ran.stderr
    (line,) = ran.stderr.strip().splitlines()
    assert line.startswith(f"SETTINGS_INVALID: {variable}={value!r}: ") and why in line, line
    assert not (tmp_path / ".accord").exists()  # nothing was started


def test_the_demo_with_no_accord_running_says_so_in_one_line(tmp_path: Path) -> None:
    address = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    for where in (["--url", address], []):
        env = accord_env() if where else accord_env() | {"ACCORD_PORT": address.rsplit(":")[-1]}
        ran = subprocess.run(
            [sys.executable, "-m", "accord", "demo", *where],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert ran.returncode == 1, ran.stderr
        assert "Traceback" not in ran.stderr
        (line,) = ran.stderr.strip().splitlines()
        assert line.startswith(f"ACCORD_UNREACHABLE: no Accord answers at {address} "), line
        assert "accord dev" in line
