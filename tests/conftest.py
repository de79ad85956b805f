"""Session fixtures: the real PostgreSQL and Kafka named by the environment, else started here."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Tracing is off in tests unless a test asks for it (tests/integration/test_tracing.py).
os.environ.setdefault("OTEL_SDK_DISABLED", "true")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """DATABASE_URL (or POSTGRES_*) when set by `make test`; else an embedded server."""
    from accord.infra import postgres

    with (
        tempfile.TemporaryDirectory(prefix="accord-pg-") as workdir,
        postgres.start(Path(workdir)) as server,
    ):
        yield server.url


@pytest.fixture(scope="session")
def kafka_listeners() -> Iterator[tuple[str, str]]:
    """The broker's plain listener and the one asking for SASL credentials: as set by `make
    test` (ACCORD_KAFKA_BOOTSTRAP, ACCORD_TEST_KAFKA_SASL_BOOTSTRAP); else a broker started
    here from the Kafka jars."""
    named = os.environ.get("ACCORD_KAFKA_BOOTSTRAP")
    if named:
        yield named, os.environ.get("ACCORD_TEST_KAFKA_SASL_BOOTSTRAP", "")
        return
    from accord.infra import kafka

    with (
        tempfile.TemporaryDirectory(prefix="accord-kafka-") as workdir,
        kafka.start(Path(workdir)) as broker,
    ):
        yield broker.bootstrap, broker.sasl_bootstrap


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_listeners: tuple[str, str]) -> str:
    return kafka_listeners[0]
