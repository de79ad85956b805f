"""Waiting until a store's events are final: an auditor reads only the events no transaction
still writes below, and a transaction of another test on the same server, begun before the
last save of this one, holds that line back until it ends."""

from __future__ import annotations

import time

import psycopg

WAIT_S = 30.0  # a bounded wait for other sessions, not a timing


def settle(database_url: str, table: str) -> None:
    """Return once every row of `table` (quoted, with its schema) is final."""
    deadline = time.monotonic() + WAIT_S
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT coalesce(max(xact_id) < pg_snapshot_xmin(pg_current_snapshot()), true)"
                f" FROM {table}"
            ).fetchone()
            if row is not None and row[0]:
                return
            time.sleep(0.02)
    raise AssertionError(f"a transaction on the server stayed open for {WAIT_S:.0f} s")
