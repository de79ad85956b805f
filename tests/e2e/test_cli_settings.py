"""A setting the environment gets wrong stops any `accord` command with one line that names
the variable, its value and why, and exit code 2: no traceback, nothing started. A command
that talks to a running Accord says in one line when none answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from accord.infra._process import port_open
from tests.e2e.accord_process import accord_env, accord_running, free_port


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
        line = demo(tmp_path, env, *where)
        assert line.startswith(f"ACCORD_UNREACHABLE: no Accord answers at {address} "), line
        assert "accord dev" in line


def demo(tmp_path: Path, env: dict[str, str], *where: str) -> str:
    """`accord demo`, expected to stop at once: its one line (and exit 1, no traceback)."""
    ran = subprocess.run(
        [sys.executable, "-m", "accord", "demo", *where],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    (line,) = ran.stderr.strip().splitlines()
    return line


def test_the_demo_pointed_at_something_else_says_so_in_one_line(tmp_path: Path) -> None:
    port = free_port()
    # A web server that is not Accord: it refuses the demo's POST in HTML.
    other = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        address = f"http://127.0.0.1:{port}"
        while not port_open(f"127.0.0.1:{port}"):
            assert other.poll() is None
        line = demo(tmp_path, accord_env(), "--url", address)
    finally:
        other.terminate()
        other.wait()
    assert line.startswith(f"NOT_ACCORD: {address}/graphql answered 501, not as Accord's"), line


def test_the_demo_with_another_token_secret_says_so_in_one_line(tmp_path: Path) -> None:
    secret = "the-running-accords-own-secret-of-32-bytes"
    with accord_running(tmp_path, accord_env(ACCORD_JWT_SECRET=secret)) as running:
        address = running.url.removesuffix("/graphql")
        other_secret = accord_env(ACCORD_JWT_SECRET="a-different-secret-of-at-least-32-bytes")
        line = demo(tmp_path, other_secret, "--url", address)
    assert line.startswith(f"TOKEN_REFUSED: {running.url} refused the demo's development tokens")
    assert "ACCORD_JWT_SECRET" in line


@pytest.mark.parametrize(
    ("given", "why"),
    [(["  "], "Invalid value for SUBJECT: a person's id, not blank"),
     (["am", "--ttl", "0"], "Invalid value for --ttl: seconds to live, above 0, not 0")],
)  # fmt: skip
def test_a_token_for_nobody_or_for_no_time_is_refused(
    tmp_path: Path, given: list[str], why: str
) -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "accord", "token", *given],
        cwd=tmp_path, env=accord_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ran.returncode == 2 and ran.stdout == "", ran.stderr
    assert why in " ".join(ran.stderr.replace("│", " ").split())


def test_accord_serve_says_which_server_does_not_answer(tmp_path: Path, database_url: str) -> None:
    closed, away = free_port(), free_port()  # nothing listens on either
    cases = [
        (
            {"DATABASE_URL": f"postgresql://postgres:s3cret@127.0.0.1:{closed}/accord",
             "ACCORD_KAFKA_BOOTSTRAP": f"127.0.0.1:{away}"},
            f"DATABASE_UNREACHABLE: PostgreSQL at 127.0.0.1:{closed} did not answer within 1 s",
        ),
        (
            {"DATABASE_URL": database_url, "ACCORD_KAFKA_BOOTSTRAP": f"127.0.0.1:{away}"},
            f"KAFKA_UNREACHABLE: Kafka at 127.0.0.1:{away} did not answer within 1 s",
        ),
    ]  # fmt: skip
    for servers, said in cases:
        env = accord_env(ACCORD_STARTUP_WAIT_SECONDS="1") | servers
        ran = subprocess.run(
            [sys.executable, "-m", "accord", "serve", "elicitation", "--port", str(free_port())],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert ran.returncode == 1, ran.stderr
        assert ran.stderr.strip().splitlines()[-1].startswith(said), ran.stderr
        assert "s3cret" not in ran.stderr and "Traceback" not in ran.stderr
