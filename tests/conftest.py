"""Session fixtures: the real PostgreSQL and Kafka named by the environment, else started here."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

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


class KafkaListeners(NamedTuple):
    """One broker's listeners: plain, asking for SASL credentials, speaking TLS (whose
    certificate `ssl_cafile` verifies), and asking for credentials over TLS."""

    plain: str
    sasl: str
    ssl: str
    ssl_cafile: str
    sasl_ssl: str


@pytest.fixture(scope="session")
def kafka_listeners() -> Iterator[KafkaListeners]:
    """As set by `make test` (ACCORD_KAFKA_BOOTSTRAP, ACCORD_TEST_KAFKA_*); else a broker
    started here from the Kafka jars."""
    named = os.environ.get("ACCORD_KAFKA_BOOTSTRAP")
    if named:
        yield KafkaListeners(
            named,
            os.environ.get("ACCORD_TEST_KAFKA_SASL_BOOTSTRAP", ""),
            os.environ.get("ACCORD_TEST_KAFKA_SSL_BOOTSTRAP", ""),
            os.environ.get("ACCORD_TEST_KAFKA_SSL_CAFILE", ""),
            os.environ.get("ACCORD_TEST_KAFKA_SASL_SSL_BOOTSTRAP", ""),
        )
        return
    from accord.infra import kafka

    with (
        tempfile.TemporaryDirectory(prefix="accord-kafka-") as workdir,
        kafka.start(Path(workdir)) as broker,
    ):
        yield KafkaListeners(
            broker.bootstrap, broker.sasl_bootstrap, broker.ssl_bootstrap, broker.ssl_cafile,
            broker.sasl_ssl_bootstrap,
        )  # fmt: skip


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_listeners: KafkaListeners) -> str:
    return kafka_listeners.plain
