"""asyncpg's pools say a database that is away in one line; any other error keeps its traceback."""

from __future__ import annotations

import logging
import sys

import asyncpg

from shared.logs import unreachable_in_one_line


def failed_reconnect(error: BaseException) -> logging.LogRecord:
    """The record asyncpg's pool logs when it cannot restore its connection floor."""
    try:
        raise error
    except BaseException:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        "asyncpg.pool", logging.WARNING, "pool.py", 571,
        "Failed to restore the pool connection floor; retrying", None, exc_info,
    )  # fmt: skip


def test_a_database_that_is_down_or_starting_is_one_line() -> None:
    for error, said in (
        (ConnectionRefusedError(111, "Connection refused"), "[Errno 111] Connection refused"),
        (
            asyncpg.CannotConnectNowError(
                "the database system is starting up\nDETAIL: consistent recovery state"
            ),
            "the database system is starting up",
        ),
    ):
        record = failed_reconnect(error)
        assert unreachable_in_one_line(record)
        line = logging.Formatter().format(record)
        assert line == (
            f"Failed to restore the pool connection floor; retrying: {type(error).__name__}: {said}"
        )


def test_any_other_error_keeps_its_traceback() -> None:
    record = failed_reconnect(ValueError("a real fault"))
    assert unreachable_in_one_line(record)
    line = logging.Formatter().format(record)
    assert "Traceback (most recent call last)" in line and "ValueError: a real fault" in line
