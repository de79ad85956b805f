"""Read-your-writes: wait until the read model has applied the events a command stored.

Every command of the process that waits is checked by the same query: after each committed
batch of the projector (its NOTIFY) one read of the audit log answers all of them, where each
command used to read it for itself, so sixteen waiting commands made sixteen queries a batch.
Where the projector runs in the same process (the embedded default) it tells the waiting
commands the events of each batch it committed instead (CommittedBatches): those waiting only on
them are answered at once, and no read follows each batch; a command still reads once as it
starts waiting (its events may be in already), and the slow poll stays the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from uuid import UUID

import asyncpg

from services.gateway.listening import ReadModelChanges, Wakeup
from shared.database import create_pool
from shared.event_ids import event_id
from shared.projection import BatchResult

# Without a NOTIFY (a lost one, or no listener), look again this often.
POLL_SECONDS = 0.2
# How long the ids the projector beside the gateway told are kept: longer than a command takes
# from its start to its wait (a service answers within answer_seconds), else it reads once.
REMEMBER_SECONDS = 60.0


def events_of_command(aggregate_id: str, version: int, stored: int) -> list[str]:
    """The ce_ids of the events a command stored: the aggregate's last `stored` versions."""
    first = version - stored + 1
    return [event_id(UUID(aggregate_id), v) for v in range(first, version + 1)]


async def checking_pool(database_url: str, schema: str) -> asyncpg.Pool:
    """The connection the checks read on. Each check looks a command's events up in the audit
    log, which starts empty and grows fastest of all tables: it is planned for the ids it asks
    about each time, never by a plan PostgreSQL kept from when the log was nearly empty, which
    scans the log whole for every command until the table is next analyzed (see create_pool).
    One connection: the checks of the whole process run one at a time."""
    return await create_pool(
        database_url, schema, max_size=1, plain_queries=True, custom_plans=True
    )


class _Waiting:
    """One command's wait: the events not seen yet, and its answer once all are."""

    def __init__(self, event_ids: list[str]) -> None:
        self.missing = set(event_ids)
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()


class _Told:
    """The ids of the events the projector beside the gateway applied in the last
    REMEMBER_SECONDS; every event applied after `since` is among them."""

    def __init__(self, now: float) -> None:
        self.since = now
        self.ids: set[str] = set()
        self._batches: deque[tuple[float, list[str]]] = deque()

    def add(self, event_ids: list[str], now: float) -> None:
        self._batches.append((now, event_ids))
        self.ids.update(event_ids)
        while self._batches[0][0] < now - REMEMBER_SECONDS:
            self.since, forgotten = self._batches.popleft()
            self.ids.difference_update(forgotten)


class ReadYourWrites:
    """The commands of this process waiting for the read model, checked together."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        changes: ReadModelChanges | None,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.pool = pool
        self.changes = changes
        # What `stored_after` is measured by: the event loop's time unless a test moves it.
        self.clock = clock or (lambda: asyncio.get_running_loop().time())
        self._waiting: set[_Waiting] = set()
        self._checker: asyncio.Task[None] | None = None
        # Set by a command that starts waiting: its events may be in the read model already.
        self._arrived = asyncio.Event()
        # While hearing from a projector beside it: what that projector applied lately.
        self._told: _Told | None = None

    @contextlib.contextmanager
    def hearing(self, batches: CommittedBatches) -> Iterator[None]:
        """Answer the waiting commands from the batches the projector in this process commits
        (see the module's doc), for the block."""
        self._told = _Told(self.clock())
        try:
            with batches.listening(self.applied):
                yield
        finally:
            self._told = None

    async def caught_up(
        self, event_ids: list[str], within: float, *, stored_after: float | None = None
    ) -> bool:
        """True once every event is in the read model; False if that takes longer than
        `within`. `stored_after`: the `clock`'s time before the command that stored them
        began, if known. A read that fails fails every command waiting on it."""
        if not event_ids:
            return True
        waiting = _Waiting(event_ids)
        told = self._told
        if told is not None and stored_after is not None and stored_after > told.since:
            # What is not among them is not applied yet. (Not `-=`, which walks every id kept.)
            waiting.missing = {e for e in waiting.missing if e not in told.ids}
            if not waiting.missing:
                return True
        else:
            self._arrived.set()  # its events may be in already: read
        self._waiting.add(waiting)
        if self._checker is None or self._checker.done():
            self._checker = asyncio.get_running_loop().create_task(self._check())
        try:
            async with asyncio.timeout(within):
                return await waiting.done
        except TimeoutError:
            return False
        finally:
            self._waiting.discard(waiting)

    async def stop(self) -> None:
        """Stop checking, as the process stops: a command still waiting answers as if its
        wait had run out (not consistent), and no task of the checker is left behind."""
        checker, self._checker = self._checker, None
        if checker is not None:
            checker.cancel()
            await asyncio.gather(checker, return_exceptions=True)
        for waiting in self._waiting:
            if not waiting.done.done():
                waiting.done.set_result(False)

    async def _check(self) -> None:
        """Until nobody waits: read which of the awaited events are applied, answer those
        waiting for no other, then sleep until the read model changes, a command starts
        waiting, or the poll's time is up."""
        with self.changes.subscribe() if self.changes else contextlib.nullcontext() as changed:
            # The first read only for a command that asked for one; after a wait, always.
            read = self._arrived.is_set()
            while self._waiting:
                if read:
                    self._arrived.clear()
                    try:
                        await self._read_applied()
                    except Exception as error:
                        for waiting in self._waiting:
                            if not waiting.done.done():
                                waiting.done.set_exception(error)
                        return
                if self._waiting:
                    await self._until_changed(changed)
                    read = True

    async def _read_applied(self) -> None:
        waiting = [w for w in self._waiting if not w.done.done()]
        wanted = sorted({event for w in waiting for event in w.missing})
        if not wanted:
            return
        rows = await self.pool.fetch(
            "SELECT event_id FROM audit_log WHERE event_id = ANY($1::text[])", wanted
        )
        self.applied(row["event_id"] for row in rows)

    def applied(self, event_ids: Iterable[str]) -> None:
        """These events are in the read model: answer the commands that waited only on them."""
        applied = set(event_ids)
        if self._told is not None:
            self._told.add(list(applied), self.clock())
        for w in list(self._waiting):
            w.missing -= applied
            if not w.missing and not w.done.done():
                w.done.set_result(True)
                self._waiting.discard(w)

    async def _until_changed(self, changed: Wakeup | None) -> None:
        rung: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._arrived.wait())]
        if changed is not None:
            rung.append(asyncio.ensure_future(changed.wait()))
        try:
            await asyncio.wait(rung, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in rung:
                waiter.cancel()


class CommittedBatches:
    """The projector's committed batches, told to the waiting commands of its own process: give
    it to the projector's runner as `on_applied`, and listen with ReadYourWrites.applied."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[Iterable[str]], None]] = []

    def __call__(self, result: BatchResult) -> None:
        for listener in self._listeners:
            listener(result.event_ids)

    @contextlib.contextmanager
    def listening(self, listener: Callable[[Iterable[str]], None]) -> Iterator[None]:
        self._listeners.append(listener)
        try:
            yield
        finally:
            self._listeners.remove(listener)
