"""/healthz says the process is alive; /readyz says which check fails, with a 503."""

import asyncio

from starlette.applications import Starlette
from starlette.testclient import TestClient

from shared.bus_memory import InProcessBus
from shared.health import health_routes
from shared.projection import ProjectionRunner


async def fine() -> str | None:
    return None


async def broken() -> str | None:
    raise ConnectionRefusedError("database is away")


async def stuck() -> str | None:
    await asyncio.Event().wait()  # a pool waiting on a database that does not answer
    return None


def test_ready_when_every_check_passes_and_alive_regardless() -> None:
    client = TestClient(Starlette(routes=health_routes({"database": fine})))
    assert client.get("/healthz").json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()["checks"]) == (200, {"database": "ok"})


def test_not_ready_names_the_failing_check() -> None:
    client = TestClient(Starlette(routes=health_routes({"database": broken, "relay": fine})))
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {
        "database": "ConnectionRefusedError: database is away",
        "relay": "ok",
    }


def test_a_check_that_does_not_answer_is_not_ready_and_the_probe_answers() -> None:
    checks = {"event_store": stuck, "relay": fine, "database": broken}
    client = TestClient(Starlette(routes=health_routes(checks, seconds=0.05)))
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {
        "event_store": "no answer within 0.05 s",
        "relay": "ok",
        "database": "ConnectionRefusedError: database is away",
    }


async def test_a_consumer_too_far_behind_is_not_ready() -> None:
    from datetime import UTC, datetime

    import tests.support.notes  # noqa: F401 - registers the test contracts
    from shared.envelope import Envelope

    bus = InProcessBus()
    runner = ProjectionRunner(
        "lagging", bus.consumer(["accord.testkit.v1"]), pool=None, handler=None
    )  # type: ignore[arg-type]
    note = Envelope(
        id="e",
        type="accord.testkit.NoteRewritten.v1",
        source="/t",
        subject="s",
        time=datetime.now(UTC),
        key="k",
        data={"text": "t", "reason": "r"},
    )
    await bus.append("accord.testkit.v1", [note] * 5)
    assert runner.readiness(max_lag=10) is None
    assert runner.readiness(max_lag=3) == "lagging: 5 messages behind (more than 3)"
    runner.last_error = "ConnectionError: gone"
    assert runner.readiness(max_lag=10) == "lagging: ConnectionError: gone"
