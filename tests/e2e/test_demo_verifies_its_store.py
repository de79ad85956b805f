"""`accord demo` on a real `accord dev` (introspection off, as in production) ends by verifying
the store it loaded, as `accord audit verify` does, and says so; a row deleted behind Accord's back is found by the next demo. The
demo contract's audit trail pages in the log's one order."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from services.gateway.protection import MAX_PAGE
from tests.e2e.accord_process import RunningAccord, accord_env, accord_running, ask

TRAIL = """query($c: ID!, $first: Int!, $after: String) {
  auditTrail(contractId: $c, first: $first, after: $after) {
    edges { node { eventId occurredAt } } pageInfo { hasNextPage endCursor } } }"""


def demo(tmp_path: Path, env: dict[str, str], running: RunningAccord) -> tuple[Any, str]:
    """`python -m accord demo` against the running Accord: its summary, and what it said."""
    done = subprocess.run(
        [sys.executable, "-m", "accord", "demo", "--url", running.url.removesuffix("/graphql")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def pages(url: str, contract: str, first: int) -> list[tuple[str, str]]:
    """The contract's whole trail (event id, instant), read `first` at a time."""
    ids: list[tuple[str, str]] = []
    after = None
    while True:
        page = ask(url, "cfo", TRAIL, c=contract, first=first, after=after)["data"]["auditTrail"]
        ids += [(e["node"]["eventId"], e["node"]["occurredAt"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


def test_the_demo_verifies_the_store_it_loaded_and_finds_a_row_deleted_behind_its_back(
    tmp_path: Path,
) -> None:
    # Introspection off, as in production: the demo loads there too.
    env = accord_env(tmp_path / "data", ACCORD_GRAPHQL_INTROSPECTION="false")
    with accord_running(tmp_path, env) as running:
        closed = ask(running.url, "am", "{ __schema { queryType { name } } }")
        assert "introspection has been disabled" in str(closed["errors"]), closed
        loaded, said = demo(tmp_path, env, running)
        verification = loaded["verification"]
        assert verification["verified"] is True, verification
        assert {"elicitation", "ranking"} <= set(verification["services"])
        assert all(not s["findings"] for s in verification["services"].values())
        assert "store verified (elicitation " in said
        assert "every chain and checkpoint holds" in said

        # The trail read seven at a time is the trail read a hundred at a time, in time order
        # (read again while what the demo set off, its notices and warnings, still lands).
        contract = loaded["contract_id"]
        for _ in range(60):
            trail = pages(running.url, contract, MAX_PAGE)
            if pages(running.url, contract, 7) == trail:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the trail never read the same seven and a hundred at a time")
        assert len(trail) > MAX_PAGE
        assert [at for _, at in trail] == sorted(at for _, at in trail)

        # An event removed from the middle of an expectation's stream, behind Accord's back.
        first = loaded["ranking"][0]
        with psycopg.connect(running.database, autocommit=True) as sql:
            sql.execute(
                "DELETE FROM elicitation.elicitation_events"
                " WHERE originator_id = %s AND originator_version = 1",
                (first,),
            )
        again, said = demo(tmp_path, env, running)
        assert again["verification"]["verified"] is False
        findings = again["verification"]["services"]["elicitation"]["findings"]
        assert any(first in line for line in findings), findings
        assert "store TAMPERED (elicitation " in said
