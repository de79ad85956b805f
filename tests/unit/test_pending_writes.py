"""Which inserts a batch may load with COPY: only those COPY loads exactly as they would."""

from __future__ import annotations

import pytest

from services.gateway.projections import audit
from shared.pending_writes import CopyInto, copy_into


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
