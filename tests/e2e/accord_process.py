"""The real `accord dev` process for end-to-end tests: started, asked, stopped whatever happens."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.auth import mint_token
from shared.settings import Settings

READY = re.compile(r"Accord GraphQL: (http://\S+/graphql)")
DATABASE = re.compile(r"database: (postgresql://\S+)")
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 60.0
# Variables that would point `accord dev` (or `accord replay`) away from its own embedded
# PostgreSQL and in-process bus: a fresh machine has none of them, `make test` sets them.
EXTERNAL_SERVERS = ("DATABASE_URL", "POSTGRES_HOST", "ACCORD_KAFKA_BOOTSTRAP")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def accord_env(data_dir: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of an embedded default: its own PostgreSQL, the data folder given or
    the default one (`.accord` in the working directory), a free port."""
    env = {**os.environ, "ACCORD_PORT": str(free_port()), **extra}
    for name in (*EXTERNAL_SERVERS, "ACCORD_DATA_DIR"):
        env.pop(name, None)
    if data_dir is not None:
        env["ACCORD_DATA_DIR"] = str(data_dir)
    return env


@dataclass
class RunningAccord:
    """One `accord dev` process, its stderr read as it comes so the pipe never fills."""

    process: subprocess.Popen[str]
    url: str = ""
    database: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def interrupt(self, seconds: float = STOP_TIMEOUT_S) -> int:
        """Ctrl-C, as in a terminal; answers the exit code (SIGKILL if it never stops, after
        a warning that shows where its threads were stuck)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            warnings.warn(
                f"accord dev (pid {self.process.pid}) did not stop within {seconds:g} s of"
                f" Ctrl-C; killed. Its threads:\n{threads_of(self.process.pid)}",
                stacklevel=2,
            )
            self.process.kill()
            return self.process.wait()

    def crash(self) -> None:
        """kill -9 the accord process alone, as a crash would; its children are left be."""
        self.process.kill()
        self.process.wait()


def threads_of(pid: int) -> str:
    """Where each Python thread of the process is (py-spy, a dev dependency), or why not."""
    spy = Path(sys.executable).with_name("py-spy")
    try:
        dumped = subprocess.run(
            [str(spy), "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"(no dump: {error})"
    return dumped.stdout or f"(no dump: {dumped.stderr.strip()})"


def start_accord(cwd: Path | None, env: dict[str, str], *args: str) -> RunningAccord:
    """Start `python -m accord dev` and wait until its GraphQL answers (or fail with its output)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "accord", "dev", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    running = RunningAccord(process)
    threading.Thread(target=_read, args=(running,), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not running.url:
        if process.poll() is not None or time.monotonic() > deadline:
            running.interrupt()
            time.sleep(0.2)  # the reader's last lines
            pytest.fail(f"accord dev did not start:\n{running.output}")
        time.sleep(0.05)
    _wait_until_answering(running)
    return running


@contextmanager
def accord_running(cwd: Path | None, env: dict[str, str], *args: str) -> Iterator[RunningAccord]:
    """`accord dev` for the block; stopped after it with Ctrl-C, which must stop it cleanly,
    unless the block crashed it. Stopped whatever happens."""
    running = start_accord(cwd, env, *args)
    try:
        yield running
    finally:
        code = running.interrupt()
    if running.process.returncode != -signal.SIGKILL:
        assert code == 0, f"exit code {code}\n" + running.output
        assert "Accord stopped" in running.output, running.output


@contextmanager
def accord_dev(data_dir: Path) -> Iterator[tuple[str, str]]:
    """Start `accord dev` on data_dir, answer its GraphQL URL and database URL, stop it with
    Ctrl-C."""
    with accord_running(None, accord_env(data_dir)) as running:
        yield running.url, running.database


def ask(url: str, person: str | None, query: str, **variables: Any) -> dict[str, Any]:
    """One GraphQL request as `person` (a development token), answering the whole body."""
    headers = {"authorization": f"Bearer {mint_token(Settings(), person)}"} if person else {}
    response = httpx.post(
        url, json={"query": query, "variables": variables}, headers=headers, timeout=30
    )
    body: dict[str, Any] = response.json()
    return body


def answer(url: str, person: str | None, operation: str, **variables: Any) -> dict[str, Any]:
    """The payload of a one-field operation (a mutation's outcome), with no GraphQL errors."""
    body = ask(url, person, operation, **variables)
    assert "errors" not in body, body
    [payload] = body["data"].values()
    return dict(payload)


def _read(running: RunningAccord) -> None:
    assert running.process.stderr is not None
    for line in running.process.stderr:
        running.lines.append(line)
        if found := DATABASE.search(line):
            running.database = found[1]
        if found := READY.search(line):
            running.url = found[1]


def _wait_until_answering(running: RunningAccord) -> None:
    for _ in range(100):
        try:
            httpx.get(running.url.replace("/graphql", "/healthz"), timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    running.interrupt()
    pytest.fail(f"{running.url} never answered:\n{running.output}")
