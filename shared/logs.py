"""Where an Accord process's log lines go: one line each on stderr, Accord's at the set level."""

from __future__ import annotations

import logging

import asyncpg

# The packages whose loggers speak for Accord; every other library logs its warnings only.
ACCORD_PACKAGES = ("accord", "shared", "services")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What a database that is down, restarting or out of reach answers a new connection.
UNREACHABLE = (
    OSError,  # refused, reset, timed out
    asyncpg.CannotConnectNowError,  # starting, recovering, shutting down
    asyncpg.AdminShutdownError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.ConnectionFailureError,
    asyncpg.ClientCannotConnectError,
    asyncpg.ConnectionRejectionError,
)


def configure_logging(level: str) -> None:
    """Send log records to stderr: Accord's from `level` up, other libraries' from WARNING."""
    logging.basicConfig(level=logging.WARNING, format=FORMAT)
    for package in ACCORD_PACKAGES:
        logging.getLogger(package).setLevel(level)
    logging.getLogger("asyncpg.pool").addFilter(unreachable_in_one_line)


def unreachable_in_one_line(record: logging.LogRecord) -> bool:
    """asyncpg's pools log each failed attempt to reconnect with its traceback, every pool each
    time, while the database is away: that is one line, with the error's first line, as
    Accord's own parts say it. Any other error keeps its traceback."""
    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, UNREACHABLE):
        first_line = (str(error).splitlines() or [""])[0]
        record.msg = f"{record.getMessage()}: {type(error).__name__}: {first_line}"
        record.args = None
        record.exc_info = None
        record.exc_text = None
    return True
