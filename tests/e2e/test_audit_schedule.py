"""The real `accord dev` signs its services' logs on schedule and publishes the key: an auditor
gets the key over HTTP and from `accord audit key` alike, and verifies the store against the
checkpoints the schedule kept."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import psycopg

from tests.e2e.accord_process import accord_env, accord_running, ask
from tests.e2e.test_audit_cli import OPEN, audit

WAIT_S = 60.0


def test_accord_dev_signs_each_moved_log_on_schedule_and_publishes_its_key(
    tmp_path: Path,
) -> None:
    # A period of 0.6 s: the schedule signs soon after a command, as it would after 15 minutes.
    env = accord_env(tmp_path / "data", ACCORD_AUDIT_CHECKPOINT_MINUTES="0.01")
    with accord_running(tmp_path, env) as running:
        ask(running.url, "am", OPEN)
        base = running.url.removesuffix("/graphql")
        key = httpx.get(f"{base}/audit/public-key", timeout=10)
        assert key.status_code == 200, key.text
        with psycopg.connect(running.database, autocommit=True) as sql:
            newest = sql.execute(
                "SELECT max(notification_id) FROM elicitation.elicitation_events"
            ).fetchone()
            assert newest is not None
            signed = None
            deadline = time.monotonic() + WAIT_S  # a bounded wait for the process, not a timing
            while time.monotonic() < deadline and signed is None:
                if sql.execute("SELECT to_regclass('elicitation.audit_checkpoints')").fetchone():
                    signed = sql.execute(
                        "SELECT signed FROM elicitation.audit_checkpoints"
                        " WHERE last_position >= %s",
                        newest,
                    ).fetchone()
                time.sleep(0.2)
        assert signed is not None, running.output
        checkpoint = signed[0]["checkpoint"]
        assert checkpoint["key_id"] == key.json()["key_id"]
        assert checkpoint["public_key"] == key.json()["public_key"]

        printed = audit(tmp_path, env, "key")
        assert printed.returncode == 0, printed.stderr
        assert json.loads(printed.stdout) == key.json()
        verified = audit(tmp_path, env, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "elicitation:" in verified.stdout and "signed" in verified.stdout
