"""One service's write side at run time: its Application, thread pool and outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import asyncpg
import tenacity
from eventsourcing.application import Application

from shared.bus import Publisher
from shared.bus_memory import InProcessPublisher
from shared.database import create_pool
from shared.errors import StoredMeanwhile
from shared.eventstore import StoreExecutor, build_application
from shared.provenance import acting_as
from shared.relay import MemoryPositions, OutboxRelay, Positions, PostgresPositions
from shared.relay_marks import BusMarks
from shared.schemas.registry import topic_for
from shared.settings import Settings
from shared.shutdown import close_pool, within

A = TypeVar("A", bound=Application[Any])
T = TypeVar("T")


class ServiceRuntime(Generic[A]):
    """Runs commands off the event loop, stamped with their actor, and relays their events."""

    def __init__(
        self,
        service: str,
        app: A,
        executor: StoreExecutor,
        relay: OutboxRelay,
        pool: asyncpg.Pool | None,
    ) -> None:
        self.service = service
        self.app = app
        self.executor = executor
        self.relay = relay
        self.pool = pool
        self._relay_task: asyncio.Task[None] | None = None
        # True while another replica holds the relay lock and this one waits to take over.
        self.relay_standby = False

    async def execute(
        self,
        command: Callable[..., T],
        *args: Any,
        actor_id: str,
        actor_role: str,
        correlation_id: str = "",
        causation_id: str = "",
        **kwargs: Any,
    ) -> T:
        """Run one application command as the actor; the relay is woken for its events. A
        command whose save lost to another storing the same version at the same moment is run
        again (`until_stored`)."""
        with acting_as(
            actor_id, actor_role, correlation_id=correlation_id, causation_id=causation_id
        ):
            result: T = await self.executor.run(until_stored, command, *args, **kwargs)
        self.relay.wake()
        return result

    async def start(self) -> None:
        await self.relay.publisher.start()
        self._relay_task = asyncio.create_task(
            self._relay_as_leader(), name=f"relay-{self.service}"
        )

    async def _relay_as_leader(self) -> None:
        """Relay only while holding the service's lock, so replicas never publish twice."""
        if self.pool is None or not self.relay.publisher.durable:  # in-process: one relay
            await self.relay.run()
            return
        lock = f"accord-relay:{self.service}"
        async with self.pool.acquire() as conn:
            while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock):
                self.relay_standby = True
                await asyncio.sleep(1.0)
            self.relay_standby = False
            try:
                await self.relay.run()
            finally:
                with contextlib.suppress(Exception):
                    await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", lock)

    async def stop(self) -> None:
        """Stop relaying and close everything, each step in bounded time."""
        if self._relay_task is not None:
            self._relay_task.cancel()
            await within("relay", asyncio.gather(self._relay_task, return_exceptions=True))
        await within("publisher", self.relay.publisher.stop())
        # Waiting for the store's threads blocks, so it happens off the event loop.
        await within("event store threads", asyncio.to_thread(self.executor.shutdown))
        if self.pool is not None:
            await close_pool(self.pool)
        self.app.close()


# How often a command is tried while its save loses to others storing the same version at the
# same moment (people on one contract or one vote at once), pausing a few milliseconds at
# random before each new try so that the commands that collided do not collide again at once.
CONFLICT_ATTEMPTS = 10
_CONFLICT_PAUSE = tenacity.wait_random_exponential(multiplier=0.005, max=0.1)


def until_stored(command: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run the command (blocking) again while it raises `StoredMeanwhile`: it loads what the
    other command stored and checks its rules again, so a command based on a version the
    caller named is then refused by its own check. The last try's refusal is raised."""
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(StoredMeanwhile),
        stop=tenacity.stop_after_attempt(CONFLICT_ATTEMPTS),
        wait=_CONFLICT_PAUSE,
        reraise=True,
    )
    result: T = retrying(command, *args, **kwargs)
    return result


async def build_runtime(
    service: str, app_class: type[A], settings: Settings, publisher: Publisher
) -> ServiceRuntime[A]:
    """The service's runtime on its own schema; relay positions persist when the bus does."""
    executor = StoreExecutor(settings.store_threads)
    # The in-process bus is one process's: nothing else writes this service's store.
    app = await executor.run(
        build_application, app_class, service, settings, sole_writer=not publisher.durable
    )
    positions, pool = await _relay_positions(service, settings, publisher)
    relay = OutboxRelay(
        app,
        service,
        publisher,
        positions,
        executor,
        batch_size=settings.relay_batch_size,
        idle_seconds=settings.relay_idle_seconds,
        publish_timeout_seconds=settings.relay_publish_timeout_seconds,
    )
    return ServiceRuntime(service, app, executor, relay, pool)


async def _relay_positions(
    service: str, settings: Settings, publisher: Publisher
) -> tuple[Positions, asyncpg.Pool | None]:
    """Where the relay got to, and the pool that keeps it: in the service's schema for Kafka;
    for the in-process bus, marks to publish again from after a restart (shared/relay_marks.py),
    or from the start (no database, or `relay_mark_every` 0)."""
    if settings.database_url in ("", "memory"):
        return MemoryPositions(), None
    if publisher.durable:
        pool = await create_pool(settings.database_url, service, max_size=2)
        stored = PostgresPositions(pool, relay=f"{service}-kafka")
        await stored.create_table()
        return stored, pool
    if (
        isinstance(publisher, InProcessPublisher)
        and publisher.bus.seals
        and settings.relay_mark_every
    ):
        pool = await create_pool(settings.database_url, service, max_size=1)
        marks = BusMarks(
            pool, f"{service}-bus", publisher.bus, topic_for(service),
            every=settings.relay_mark_every,
        )  # fmt: skip
        await marks.create_table()
        return marks, pool
    return MemoryPositions(), None
