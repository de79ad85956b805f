"""A setting the environment gets wrong stops any `accord` command with one line that names
the variable, its value and why, and exit code 2: no traceback, nothing started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.accord_process import accord_env


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
