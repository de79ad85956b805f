"""A batch's pending writes: which inserts it may load with COPY (only those COPY loads exactly as
they would), and a whole row written again in a batch written once, as its last write left it."""

from __future__ import annotations

import pytest

from services.gateway.projections import audit
from shared.pending_writes import CopyInto, PendingWrites, copy_into, write_row


def test_the_audit_logs_insert_is_copied_into_its_columns_in_parameter_order() -> None:
    target = copy_into(audit.INSERT)
    assert target is not None
    assert (target.table, target.columns[:2], target.columns[-2:]) == (
        "audit_log", ("event_id", "event_type"), ("offset", "log_position")
    )  # fmt: skip
    assert target.jsonb == ("data",) and target.skips_conflicts


def test_a_plain_insert_fails_on_a_conflict_as_copy_does() -> None:
    assert copy_into("INSERT INTO t (a, b) VALUES ($1, $2::jsonb)") == CopyInto(
        "t", ("a", "b"), ("b",), skips_conflicts=False
    )


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT (a) DO UPDATE SET b = excluded.b",
        "INSERT INTO t (a, b) VALUES ($2, $1)",  # parameters out of column order
        "INSERT INTO t (a, b) VALUES ($1, now())",  # a value the database computes
        "INSERT INTO t (a, b) VALUES ($1, $2::int)",  # a cast COPY would not make
        "INSERT INTO t (a, b) VALUES ($1, $2) RETURNING a",
        "INSERT INTO t VALUES ($1, $2)",  # no columns named
        "INSERT INTO t (a, b) SELECT $1, $2",
        "UPDATE t SET a = $1 WHERE b = $2",
    ],
)
def test_an_insert_copy_would_load_differently_is_executed(sql: str) -> None:
    assert copy_into(sql) is None


class Recording:
    """A connection that records what it is asked to run, in order."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, list[tuple[object, ...]]]] = []

    async def execute(self, sql: str, *args: object) -> str:
        self.ran.append((sql, [args]))
        return ""

    async def executemany(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        self.ran.append((sql, [tuple(r) for r in rows]))

    async def fetchval(self, sql: str, *args: object) -> object:
        self.ran.append((sql, [args]))
        return None


UPSERT = "INSERT INTO notes (id, text) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET text = $2"
LOG = "INSERT INTO note_log (id, text) VALUES ($1, $2)"


async def test_a_whole_row_written_again_in_a_batch_is_written_once_as_it_was_left() -> None:
    conn = Recording()
    writes = PendingWrites(conn)  # type: ignore[arg-type]
    for key, text in (("a", "a1"), ("b", "b1"), ("a", "a2"), ("a", "a3")):
        writes.begin(f"stream:{key}")
        await write_row(writes, key, UPSERT, key, text)
        await writes.execute(LOG, key, text)
        writes.end()
    await writes.flush()
    assert conn.ran == [
        (UPSERT, [("a", "a3"), ("b", "b1")]),
        (LOG, [("a", "a1"), ("b", "b1"), ("a", "a2"), ("a", "a3")]),
    ]
    # A read runs what was kept back: a write after it is kept afresh.
    conn.ran.clear()
    writes.begin("stream:a")
    await write_row(writes, "a", UPSERT, "a", "a4")
    await writes.fetchval("SELECT text FROM notes WHERE id = $1", "a")
    await write_row(writes, "a", UPSERT, "a", "a5")
    writes.end()
    await writes.flush()
    assert [args for _, args in conn.ran] == [[("a", "a4")], [("a",)], [("a", "a5")]]


async def test_a_whole_row_on_a_connection_is_written_at_once() -> None:
    conn = Recording()
    await write_row(conn, "a", UPSERT, "a", "a1")  # type: ignore[arg-type]
    assert conn.ran == [(UPSERT, [("a", "a1")])]
