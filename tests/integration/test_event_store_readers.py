"""Readers of Accord's event store wait for event writers only: a transaction elsewhere on
the server (a read model's projection, a report, a writer of another database) does not hold
the log back."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import psycopg

from shared.provenance import acting_as
from tests.integration.services_in_one import own_database
from tests.integration.test_event_store_concurrency import (
    fresh_schema,
    hold_open_insert,
    open_store,
    read_all,
)


def test_a_transaction_that_writes_no_events_does_not_hold_readers_back(
    database_url: str,
) -> None:
    app = open_store(database_url, "accord", fresh_schema())
    with psycopg.connect(database_url) as other:
        # A projection's transaction: it writes rows, so it holds a transaction id, and stays open.
        other.execute("CREATE TEMP TABLE read_model (n int)")
        other.execute("INSERT INTO read_model VALUES (1)")
        running = other.execute("SELECT pg_current_xact_id()::text").fetchone()
        assert running is not None
        with acting_as("alice", "decision_maker"):
            written = app.write(uuid4(), "stored while a projection's transaction is open")
        seen = read_all(app)
        assert [n.originator_id for n in seen] == [written]
        assert app.recorder.max_notification_id() == seen[0].id
        other.rollback()
    app.close()


def test_an_event_writer_still_running_holds_readers_back_until_it_ends(
    database_url: str,
) -> None:
    app = open_store(database_url, "accord", fresh_schema())
    with psycopg.connect(database_url) as other:
        other.execute("CREATE TEMP TABLE read_model (n int)")
        other.execute("INSERT INTO read_model VALUES (1)")  # a non-writer, older than both
        with acting_as("alice", "decision_maker"):
            slow_note = uuid4()
            holding, conn = hold_open_insert(app, slow_note)
            after = app.write(uuid4(), "committed after the slow writer began")
            assert read_all(app) == []
            assert app.recorder.max_notification_id() is None
            conn.rollback()  # the slow writer gives up: its event never existed
            conn.autocommit = True
            holding.__exit__(None, None, None)
        assert [n.originator_id for n in read_all(app)] == [after]
        other.rollback()
    app.close()


def test_a_writer_to_the_same_table_of_another_database_does_not_hold_readers_back(
    database_url: str,
) -> None:
    """Another Accord (or another test worker) on the same server stores its events in a table
    of the same name, in its own database: its writer still running is not this log's."""
    schema = fresh_schema()
    app = open_store(database_url, "accord", schema)
    elsewhere = open_store(asyncio.run(own_database(database_url)), "accord", schema)
    with acting_as("alice", "decision_maker"):
        holding, conn = hold_open_insert(elsewhere, uuid4())
        try:
            written = app.write(uuid4(), "stored while the other database's writer runs")
            assert [n.originator_id for n in read_all(app)] == [written]
            assert app.recorder.max_notification_id() is not None
        finally:
            conn.rollback()
            conn.autocommit = True
            holding.__exit__(None, None, None)
    elsewhere.close()
    app.close()
