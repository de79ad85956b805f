"""The distributed mode for the benchmarks: the five `accord serve` processes on a real Kafka
broker and a database of their own on the bench's PostgreSQL server.

As the full-stack tests start it (tests/e2e/test_full_stack.py): one process per service, the
projector and the gateway, each on a free loopback port, talking through Kafka. The broker is
ACCORD_KAFKA_BOOTSTRAP's when set (as under `accord infra run`), else one started here from
the Kafka jars (accord.infra.kafka). The processes get their own database on the same server,
so their schemas never meet those of the `accord dev` measured beside them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from accord.infra import kafka
from tests.e2e.accord_process import free_port

PROCESSES = ("elicitation", "ranking", "notifications", "projector", "gateway")
SERVICES = ("elicitation", "ranking", "notifications")
DATABASE = "accord_distributed"
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Stack:
    """The running processes: where to reach them, their pids, the broker and database."""

    urls: dict[str, str]  # process -> base URL
    pids: tuple[int, ...]
    bootstrap: str
    database: str
    logs: Path

    @property
    def graphql(self) -> str:
        return f"{self.urls['gateway']}/graphql"

    @property
    def elicitation(self) -> str:
        return self.urls["elicitation"]


def own_database(server_url: str, name: str = DATABASE) -> str:
    """A fresh database `name` on the server of server_url; answers its URL."""

    async def create() -> None:
        connection = await asyncpg.connect(server_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


@contextlib.contextmanager
def broker(workdir: Path) -> Iterator[str]:
    """ACCORD_KAFKA_BOOTSTRAP's broker, else one started from the Kafka jars for the block."""
    named = os.environ.get("ACCORD_KAFKA_BOOTSTRAP")
    if named:
        yield named
        return
    with kafka.start(workdir) as started:
        yield started.bootstrap


@contextlib.contextmanager
def stack(server_url: str, workdir: Path, **extra: str) -> Iterator[Stack]:
    """The five processes on their own database of server_url and a Kafka broker, until the
    block ends; `extra` is added to their environment."""
    database = own_database(server_url)
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with broker(workdir / "kafka") as bootstrap:
        ports = {name: free_port() for name in PROCESSES}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "ACCORD_KAFKA_BOOTSTRAP": bootstrap,
            **{f"ACCORD_{s.upper()}_URL": urls[s] for s in SERVICES},
            **extra,
        }
        running: list[subprocess.Popen[bytes]] = []
        try:
            for name in PROCESSES:
                with (logs / f"{name}.log").open("wb") as log:
                    running.append(subprocess.Popen(
                        [sys.executable, "-m", "accord", "serve", name, "--port", str(ports[name])],
                        env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    ))  # fmt: skip
            for name, process in zip(PROCESSES, running, strict=True):
                wait_ready(name, urls[name], process, logs / f"{name}.log")
            yield Stack(urls, tuple(p.pid for p in running), bootstrap, database, logs)
        finally:
            for process in running:
                process.terminate()
            for process in running:
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def wait_ready(name: str, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"`accord serve {name}` did not become ready:\n{tail}")
