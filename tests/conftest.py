"""Session fixtures: the real PostgreSQL and Kafka named by the environment, else started here."""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from shared.leftovers import stop_leftover_tasks

# Tracing is off in tests unless a test asks for it (tests/integration/test_tracing.py).
os.environ.setdefault("OTEL_SDK_DISABLED", "true")


def worker() -> int | None:
    """This process's number among `make test`'s workers (pytest-xdist's gw0, gw1...), if any."""
    name = os.environ.get("PYTEST_XDIST_WORKER")
    return int(name.removeprefix("gw")) if name else None


def own_broker() -> dict[str, str] | None:
    """The listeners of the broker `make test` started for this process (`accord infra run
    --brokers N` lists them in ACCORD_TEST_KAFKA_BROKERS): worker gwN's is the Nth, a run
    without workers takes the first; None if it started none for this process."""
    brokers: list[dict[str, str]] = json.loads(os.environ.get("ACCORD_TEST_KAFKA_BROKERS", "[]"))
    mine = worker() or 0
    return brokers[mine] if mine < len(brokers) else None


# In a worker, the environment names the worker's own broker too: code that reads its settings
# from the environment publishes where this worker's tests read, never on another's broker.
if worker() is not None and (broker := own_broker()) is not None:
    os.environ["ACCORD_KAFKA_BOOTSTRAP"] = broker["plain"]


@pytest.fixture(scope="session", autouse=True)
async def no_task_left_at_the_end() -> AsyncIterator[None]:
    """After the session's last test: each task a test or fixture left running is named (a
    warning in the summary, its stack in the log) and cancelled, for at most
    shared.leftovers.SECONDS. The session's event loop would otherwise wait, with no word, on one that loses its
    cancellation, and the run would never end."""
    yield
    if left := await stop_leftover_tasks():
        warnings.warn(f"tasks still ran after the session's tests: {left}", stacklevel=1)


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """DATABASE_URL (or POSTGRES_*) when set by `make test`; else an embedded server. Each of
    `make test`'s workers has a database of its own there: the services' schemas, relay
    positions and offsets of one worker's tests are not another's."""
    from accord.infra import postgres
    from tests.integration.services_in_one import own_database

    with (
        tempfile.TemporaryDirectory(prefix="accord-pg-") as workdir,
        postgres.start(Path(workdir)) as server,
    ):
        yield server.url if worker() is None else await own_database(server.url)


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
    """The broker `make test` started for this worker (ACCORD_TEST_KAFKA_BROKERS: topics and
    consumer groups are not shared between workers); else, outside workers, the one
    ACCORD_KAFKA_BOOTSTRAP names (its plain listener); else a broker started here from the
    Kafka jars."""
    if (broker := own_broker()) is not None:
        yield KafkaListeners(**broker)
        return
    named = os.environ.get("ACCORD_KAFKA_BOOTSTRAP")
    if named and worker() is None:
        yield KafkaListeners(named, "", "", "", "")
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
