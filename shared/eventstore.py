"""Each service's eventsourcing Application on its own PostgreSQL schema, and its thread pool."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from copy import deepcopy
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.application import Application, Cache, LRUCache, ProcessingEvent, Repository
from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Recording,
    Transcoding,
    UUIDAsHex,
)

from shared.aggregate_cache import NewestOnly
from shared.provenance import current_provenance
from shared.settings import Settings, postgres_env
from shared.telemetry import current_traceparent

log = logging.getLogger(__name__)
A = TypeVar("A", bound=Application[Any])
T = TypeVar("T")


class DateAsISO(Transcoding):
    """Calendar dates (a contract's start, deadlines, periods) stored as YYYY-MM-DD; a
    service that stores dates registers it, and whatever reads its store decodes with it."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def stored_event_transcoder() -> JSONTranscoder:
    """What decodes any service's stored events: the library's transcodings and Accord's."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return transcoder


class AccordAggregate(Aggregate):
    """Base aggregate: every event it emits carries its provenance and its contract."""

    @property
    def contract_id(self) -> UUID:
        """The contract this aggregate belongs to; the Kafka key of its events."""
        return self.id

    def carry_trace(self, traceparent: str) -> None:
        """The events it collects next continue this trace, not the command's: a record made
        later for an earlier cause (the notices of a source event) stays in that cause's trace.
        Kept on the object only until then ("": the command's own)."""
        self.__dict__["_carried_trace"] = traceparent

    def collect_events(self) -> Sequence[CanMutateAggregate[UUID]]:
        events = super().collect_events()
        carried: str = self.__dict__.pop("_carried_trace", "")
        if not events:
            return events
        meta = current_provenance().as_dict()
        meta["traceparent"] = carried or meta["traceparent"] or current_traceparent()
        meta["contract_id"] = str(self.contract_id)
        for event in events:
            # Events are frozen; the stamp goes into their state so the mapper stores it.
            object.__setattr__(event, "_meta", dict(meta))
        return events


class AccordApplication(Application[UUID]):
    """A service's application. When its aggregate cache is kept by its own saves (no
    fast-forward), the cache takes a copy of each aggregate saved that it held, not the
    command's object: what a command does to it after the save (and may never save) stays out
    of the cache. One it did not hold (just created) is left out, to be read from the store
    when first asked for, as with fast-forward: most are never asked for by this process (a
    notification's record of its notices), and a copy of each would cost every save."""

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository; kept by its saves, its cache never goes back in time
        (shared/aggregate_cache.py). Read up to date on every load, the library's own."""
        repository = super().construct_repository()
        if isinstance(repository.cache, LRUCache) and not repository.fastforward:
            repository.cache = NewestOnly(repository.cache.maxsize)
        return repository

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        cache = self.repository.cache
        if cache is None or self.repository.fastforward:
            return super()._record(processing_event)
        if isinstance(cache, NewestOnly):
            for aggregate_id, aggregate in processing_event.aggregates.items():
                cache.saving(aggregate_id, aggregate.version)
        held = {i for i in processing_event.aggregates if _holds(cache, i)}
        recordings = super()._record(processing_event)  # which caches the objects saved
        for aggregate_id, aggregate in processing_event.aggregates.items():
            if aggregate_id in held:
                cache.put(aggregate_id, deepcopy(aggregate))
            else:
                with contextlib.suppress(KeyError):
                    cache.get(aggregate_id, evict=True)
        return recordings


def _holds(cache: Cache[UUID, Any], aggregate_id: UUID) -> bool:
    try:
        cache.get(aggregate_id)
    except KeyError:
        return False
    return True


# The persistence module behind each choice of ACCORD_EVENT_STORE.
PERSISTENCE_MODULES = {"accord": "shared.recorder", "stock": "eventsourcing.postgres"}


def cache_fastforward(settings: Settings, service: str, *, sole_writer: bool) -> bool:
    """Whether the service's cached aggregates are read up to date on every load: as set, else
    unless it is its store's only writer. Set off where others may write, it is said once."""
    fastforward = settings.aggregate_cache_fastforward
    if fastforward is None:
        return not sole_writer
    if not fastforward and not sole_writer:
        log.warning(
            "%s: ACCORD_AGGREGATE_CACHE_FASTFORWARD=false where other processes may write its"
            " store (services talking through Kafka): right only while one process of the"
            " service runs; a second replica's commands would go unseen by this one's checks",
            service,
        )
    return fastforward


def build_application(
    app_class: type[A], service: str, settings: Settings, *, sole_writer: bool = False
) -> A:
    """The service's Application: PostgreSQL schema `service`, or in memory for unit tests.
    `sole_writer`: nothing but this application writes its store (see
    Settings.aggregate_cache_fastforward, which decides when set)."""
    if settings.database_url in ("", "memory"):
        return app_class(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ensure_schema(settings.database_url, service)
    env = postgres_env(settings.database_url, schema=service)
    env["PERSISTENCE_MODULE"] = PERSISTENCE_MODULES[settings.event_store]
    if settings.aggregate_cache_size:
        # Fast-forwarded on every load, so what another process stored is never missed, unless
        # none can store any; a command gets a deep copy, so one that fails leaves the cached
        # aggregate as it was.
        fastforward = cache_fastforward(settings, service, sole_writer=sole_writer)
        env["AGGREGATE_CACHE_MAXSIZE"] = str(settings.aggregate_cache_size)
        env["AGGREGATE_CACHE_FASTFORWARD"] = "y" if fastforward else "n"
        env["DEEPCOPY_FROM_AGGREGATE_CACHE"] = "y"
    app = app_class(env=env)
    if settings.event_store == "stock":
        continue_ids_after_stored(settings.database_url, f'"{service}"."{app.name.lower()}_events"')
    return app


def ensure_schema(database_url: str, schema: str) -> None:
    """Create the service's schema once; the library creates its tables inside it."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def continue_ids_after_stored(database_url: str, table: str) -> None:
    """Move the stock recorder's id sequence past ids Accord's recorder gave (which do not
    draw on it), so a store switched back to stock never writes below what readers have seen."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "SELECT setval(s.seq, s.stored) FROM (SELECT"
            " pg_get_serial_sequence(%(table)s, 'notification_id')::regclass AS seq,"
            f" (SELECT max(notification_id) FROM {table}) AS stored) AS s"
            " WHERE s.stored > coalesce(pg_sequence_last_value(s.seq), 0)",
            {"table": table},
        )


class StoreExecutor:
    """A bounded thread pool for the synchronous eventsourcing calls, off the event loop."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="eventstore")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run fn in the pool, keeping the caller's context (provenance, trace)."""
        context = contextvars.copy_context()
        call = functools.partial(context.run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
