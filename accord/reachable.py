"""Before a process of the distributed mode starts: its PostgreSQL and a Kafka broker answer,
or it says in one line which does not (an orchestrator then starts it again)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import psycopg
from psycopg.conninfo import conninfo_to_dict
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_fixed,
)

from shared.settings import Settings

log = logging.getLogger(__name__)

# Each try gives up after this long: a server that does not answer at all is tried again.
TRY_SECONDS = 2


class Unreachable(RuntimeError):
    """A server the process needs did not answer in time; `code` says which."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def wait_until_reachable(settings: Settings) -> None:
    """Return once the database and a broker answer; Unreachable after startup_wait_seconds."""
    database = conninfo_to_dict(settings.database_url)
    where = f"{database.get('host', 'localhost')}:{database.get('port', 5432)}"
    _wait(settings, "DATABASE_UNREACHABLE", f"PostgreSQL at {where}", _database_answers)
    _wait(settings, "KAFKA_UNREACHABLE", f"Kafka at {settings.kafka_bootstrap}", _broker_answers)


def _wait(settings: Settings, code: str, server: str, answers: Callable[[Settings], None]) -> None:
    seconds = settings.startup_wait_seconds

    def told_once(state: RetryCallState) -> None:
        if state.attempt_number == 1 and state.outcome is not None:
            log.info("waiting for %s to answer: %s", server, _said(state.outcome.exception()))

    retrying = Retrying(
        stop=stop_after_delay(seconds), wait=wait_fixed(0.5), before_sleep=told_once,
        retry=retry_if_exception_type((OSError, psycopg.OperationalError)),
    )  # fmt: skip
    try:
        retrying(answers, settings)
    except RetryError as gave_up:
        why = _said(gave_up.last_attempt.exception())
        raise Unreachable(code, f"{server} did not answer within {seconds:g} s: {why}") from None


def _database_answers(settings: Settings) -> None:
    with psycopg.connect(settings.database_url, connect_timeout=TRY_SECONDS) as conn:
        conn.execute("SELECT 1")


def _broker_answers(settings: Settings) -> None:
    """A TCP connection to any one bootstrap server (where the Kafka clients then start)."""
    refused: OSError = OSError("no bootstrap server given")
    for server in (s.strip() for s in settings.kafka_bootstrap.split(",") if s.strip()):
        host, _, port = server.rpartition(":")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=TRY_SECONDS).close()
            return
        except OSError as error:
            refused = error
    raise refused


def _said(error: BaseException | None) -> str:
    """An error's first line (psycopg's go on with hints), or its type when it says nothing."""
    text = str(error).strip() if error is not None else ""
    return text.splitlines()[0] if text else type(error).__name__
