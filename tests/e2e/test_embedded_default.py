"""`accord dev`: one process, embedded PostgreSQL, GraphQL; Ctrl-C stops it and the data stays."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from shared.auth import mint_token
from shared.settings import Settings

READY = re.compile(r"Accord GraphQL: (http://\S+/graphql)")
DATABASE = re.compile(r"database: (postgresql://\S+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def accord_dev(data_dir: Path, log: list[str] | None = None) -> Iterator[tuple[str, str]]:
    """Start `accord dev`, answer its GraphQL URL and database URL, stop it with Ctrl-C.

    Its log is read all along, into `log` if given: a full pipe would stop the server."""
    env = {**os.environ, "ACCORD_DATA_DIR": str(data_dir), "ACCORD_PORT": str(free_port())}
    env.pop("DATABASE_URL", None)  # the embedded default: its own PostgreSQL
    process = subprocess.Popen(
        [sys.executable, "-m", "accord", "dev"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = [] if log is None else log
    reader = None
    try:
        seen = ""
        url = database = ""
        assert process.stderr is not None
        while not url:
            line = process.stderr.readline()
            if not line:
                pytest.fail(f"accord dev exited early:\n{seen}")
            seen += line
            if found := DATABASE.search(line):
                database = found[1]
            if found := READY.search(line):
                url = found[1]
        reader = threading.Thread(target=lines.extend, args=(process.stderr,), daemon=True)
        reader.start()
        _wait_until_answering(url)
        yield url, database
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        if reader is None:  # it stopped before it was ready
            lines.append(process.stderr.read() if process.stderr else "")
        else:
            reader.join(timeout=10)
        rest = "".join(lines)
    assert code == 0, rest
    assert "Accord stopped" in rest


def _wait_until_answering(url: str) -> None:
    for _ in range(100):
        try:
            httpx.get(url.replace("/graphql", "/healthz"), timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"{url} never answered")


def graphql(url: str, query: str) -> dict[str, object]:
    response = httpx.post(url, json={"query": query}, timeout=10)
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


def test_accord_dev_serves_graphql_and_keeps_its_data_across_a_restart(tmp_path) -> None:
    with accord_dev(tmp_path) as (url, database):
        assert graphql(url, "{ health version }")["health"] == "ok"
        for service in ("elicitation", "ranking", "notifications"):
            ready = httpx.get(url.replace("/graphql", f"/{service}/readyz"), timeout=5)
            assert ready.status_code == 200, ready.text
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute("CREATE TABLE survives (note text)")
            conn.execute("INSERT INTO survives VALUES ('kept')")
    assert (tmp_path / "postgres" / "pgdata" / "PG_VERSION").exists()

    with accord_dev(tmp_path) as (url, database):
        assert graphql(url, "{ health }")["health"] == "ok"
        with psycopg.connect(database) as conn:
            assert conn.execute("SELECT note FROM survives").fetchone() == ("kept",)


def test_accord_demo_loads_a_prioritized_contract_that_survives_a_restart(tmp_path) -> None:
    with accord_dev(tmp_path) as (url, _):
        base = url.removesuffix("/graphql")
        loaded = subprocess.run(
            [sys.executable, "-m", "accord", "demo", "--url", base],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert loaded.returncode == 0, loaded.stderr
        summary = json.loads(loaded.stdout)
        contract = summary["contract_id"]
        assert summary["expectations"] == 12 and len(summary["ranking"]) == 12
        assert summary["notices"] > 0
        ballot = _get(base, f"/ranking/contracts/{contract}/ballot")
        assert len(ballot["expectations"]) == 12 and len(ballot["voters"]) == 5
        people = _get(base, f"/elicitation/contracts/{contract}")["participants"]
        assert len(people) == 8

    with accord_dev(tmp_path) as (url, _):
        base = url.removesuffix("/graphql")
        # After the restart every event is republished in process; the views stay as they were.
        time.sleep(1)
        again = _get(base, f"/ranking/contracts/{contract}/ballot")
        assert again == ballot


def _get(base: str, path: str) -> dict[str, object]:
    token = mint_token(Settings(), "am")
    response = httpx.get(base + path, headers={"authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())
