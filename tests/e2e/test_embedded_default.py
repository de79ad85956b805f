"""`accord dev`: one process, embedded PostgreSQL, GraphQL; Ctrl-C stops it and the data stays."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import psycopg

from shared.auth import mint_token
from shared.recorder import EVENTS_PER_TRANSACTION_BITS
from shared.settings import Settings
from tests.e2e.accord_process import accord_dev, accord_env, accord_running, ask, free_port

__all__ = ["accord_dev"]  # other e2e modules import it from here


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


def test_accord_dev_serves_on_the_port_its_command_line_names(tmp_path) -> None:
    """`accord dev --port N` as typed in a terminal: served on N, whatever ACCORD_PORT says."""
    port = free_port()
    env = accord_env(tmp_path)  # ACCORD_PORT names another free port
    assert env["ACCORD_PORT"] != str(port)
    with accord_running(None, env, "--port", str(port)) as running:
        assert running.url == f"http://127.0.0.1:{port}/graphql"
        assert graphql(running.url, "{ health }")["health"] == "ok"


def test_accord_demo_loads_a_prioritized_contract_that_survives_a_restart(tmp_path) -> None:
    # The in-process bus drops every message all its consumers committed as soon as one is,
    # and the relays mark their way every 5 messages: the demo's every read-your-writes, and
    # the restart's history published again from those marks, still hold.
    env = accord_env(tmp_path, ACCORD_BUS_FORGET_AFTER="1", ACCORD_RELAY_MARK_EVERY="5")
    with accord_running(None, env) as running:
        url = running.url
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
        baseline = summary["baseline"]
        assert baseline["complete"] and baseline["signatures"] == 2
        # the provider's commitments: the first six proposed, and the tills on a condition
        assert baseline["expectations"] == 7 and baseline["ranked"]
        # a warning while the demo ran, a suspect link after a refinement, and a health score
        # that moved when the missed till target got its recovery plan
        assert summary["warning"]["state"] == "MISSED", summary["warning"]
        assert summary["suspects"] == ["BASELINE", "COMMITMENT", "OBLIGATION"]
        health = summary["health"]
        assert health["after_recovery"] - health["before_recovery"] == 10, health
        assert health["now"] < health["after_recovery"], health
        ballot = _get(base, f"/ranking/contracts/{contract}/ballot")
        assert len(ballot["expectations"]) == 12 and len(ballot["voters"]) == 5
        people = _get(base, f"/elicitation/contracts/{contract}")["participants"]
        assert len(people) == 8
        sent = settled_deliveries(url, contract)
        # It said how many notices its whole story sent (it once said 10 of 91: a count taken
        # mid-story, while they were still being queued).
        assert summary["notices"] == len(sent), (summary["notices"], len(sent))

    # `make run DEMO=1` again on the same data: the demo is there already, not loaded twice.
    with accord_running(None, env, "--demo") as running:
        base = running.url.removesuffix("/graphql")
        deadline = time.monotonic() + 60
        while "is loaded already" not in running.output and time.monotonic() < deadline:
            time.sleep(0.1)
        assert f"demo contract {contract} is loaded already" in running.output, running.output
        titles = ask(running.url, "am", "{ contracts { edges { node { id title } } } }")
        assert [e["node"]["id"] for e in titles["data"]["contracts"]["edges"]] == [contract]
        # After the restart each relay publishes again from its last mark before every view,
        # and the views stay as they were.
        assert "relay elicitation-bus: publishing again from event" in running.output
        again = _get(base, f"/ranking/contracts/{contract}/ballot")
        assert again == ballot
        # No notice went out twice: each one settled before the restart is as it was. (A notice
        # of the demo's last events can still be on its way when the first run stops; it is
        # sent after the restart, once.)
        after = {notice: rest for notice, *rest in settled_deliveries(running.url, contract)}
        assert {notice: after.get(notice) for notice, *_ in sent} == {
            notice: rest for notice, *rest in sent
        }


def settled_deliveries(url: str, contract: str) -> list[tuple[str, str, int]]:
    """The contract's deliveries once none is still on its way (the demo's last may be)."""
    deadline = time.monotonic() + 60
    while True:
        found = deliveries(url, contract)
        pending = [d for d in found if d[1] in ("QUEUED", "RETRYING")]
        if not pending or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def deliveries(url: str, contract: str) -> list[tuple[str, str, int]]:
    found = ask(
        url,
        "am",
        "query($c: ID!) { deliveries(contractId: $c, first: 100)"
        " { edges { node { noticeId status attempts } } pageInfo { hasNextPage } } }",
        c=contract,
    )["data"]["deliveries"]
    assert not found["pageInfo"]["hasNextPage"], "the demo's notices fit one page"
    return sorted(
        (d["node"]["noticeId"], d["node"]["status"], d["node"]["attempts"]) for d in found["edges"]
    )


def _get(base: str, path: str) -> dict[str, object]:
    token = mint_token(Settings(), "am")
    response = httpx.get(base + path, headers={"authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def readiness(url: str) -> tuple[int, dict[str, str]]:
    ready = httpx.get(url.replace("/graphql", "/readyz"), timeout=10)
    return ready.status_code, ready.json()["checks"]


def test_accord_devs_readiness_covers_every_part_and_names_the_one_that_fails(tmp_path) -> None:
    with accord_dev(tmp_path) as (url, database):
        status, checks = readiness(url)
        assert status == 200, checks
        assert {
            "gateway.database", "projector.projector", "elicitation.relay", "elicitation.views",
            "ranking.relay", "notifications.relay", "notifications.event_store",
        } <= set(checks)  # fmt: skip
        assert set(checks.values()) == {"ok"}

        # A stored event no contract knows, written behind Accord's back: the relay cannot
        # publish it, and says so, until it is gone.
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO elicitation.elicitation_events (originator_id, originator_version,"
                " topic, state, notification_id) VALUES (gen_random_uuid(), 1,"
                " 'accord.nowhere:Nothing.Happened', '{}',"
                " (pg_current_xact_id()::text::bigint << %s) + 1)",
                (EVENTS_PER_TRANSACTION_BITS,),
            )
        deadline = time.monotonic() + 30
        while (found := readiness(url))[0] == 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        status, checks = found
        assert status == 503, checks
        assert "Nothing.Happened" in checks["elicitation.relay"], checks
        assert checks["gateway.database"] == "ok" and checks["ranking.relay"] == "ok"

        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(
                "DELETE FROM elicitation.elicitation_events WHERE topic LIKE 'accord.nowhere:%'"
            )
        deadline = time.monotonic() + 30
        while (found := readiness(url))[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert found[0] == 200, found


def test_a_callers_trace_reaches_the_events_its_command_stores(tmp_path) -> None:
    """Tracing as it is by default (on, no exporter): the traceparent a client sends with a
    mutation is the trace of the events the service stores for it, which the relay publishes
    on Kafka, though the gateway hands the command to the service in process."""
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    env = accord_env(tmp_path, OTEL_SDK_DISABLED="false")
    with accord_running(None, env) as running:
        response = httpx.post(
            running.url,
            json={
                "query": """mutation { openContract(input: {clientOrganisation: "Northwind",
                providerOrganisation: "Contoso", title: "Operations", startsOn: "2027-01-01",
                name: "Ann", role: PROVIDER_ACCOUNT_MANAGER}) { ... on ContractChanged {
                created } } }"""
            },
            headers={
                "authorization": f"Bearer {mint_token(Settings(), 'am')}",
                "traceparent": f"00-{trace_id}-b7ad6b7169203331-01",
            },
            timeout=30,
        )
        contract = response.json()["data"]["openContract"]["created"]
        with psycopg.connect(running.database) as conn:
            rows = conn.execute(
                "SELECT state FROM elicitation.elicitation_events WHERE originator_id = %s",
                (contract,),
            ).fetchall()
    assert rows
    for (state,) in rows:
        assert json.loads(bytes(state))["_meta"]["traceparent"].split("-")[1] == trace_id
