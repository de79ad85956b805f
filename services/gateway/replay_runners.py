"""The projection runners of a rebuild and the loop that drains a feed into them.

A rebuild applies messages with the kernel's own `ProjectionRunner.apply_batch` and the
projector's dispatcher, so a rebuilt row is made exactly as a live one is."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import asyncpg

from services.gateway.projections import dispatch
from services.gateway.projector import PROJECTION
from services.gateway.store_feed import shard_of
from shared.bus import Consumer, Message, Partition
from shared.projection import ProjectionRunner
from shared.settings import Settings

# Called after each batch with (messages read, messages to read).
Progress = Callable[[int, int], None]

# A rebuild that reads nothing for this long is stuck (a broker away): it gives up.
STALL_SECONDS = 60.0
# Events applied per transaction while rebuilding: nobody reads the staging schema, and the
# bigger the batch, the more of its statements run together.
REPLAY_BATCH_SIZE = 5_000


class ReplayFailed(RuntimeError):
    """The rebuild could not finish; the live read models were left as they were."""


class Feed(Consumer, Protocol):
    """A consumer of everything from the beginning, that knows how far it has to go."""

    # True when its offsets mean nothing to the live projector (they are not Kafka's).
    adopts_live_offsets: bool
    # True when it never hands over an event twice (see ProjectionRunner.unique_events).
    unique_events: bool

    @property
    def done(self) -> int: ...

    @property
    def total(self) -> int: ...

    async def caught_up(self) -> bool: ...

    async def extend(self, live: dict[Partition, int]) -> None:
        """Go at least as far as the live projector got (and what has arrived since)."""


def runners_for(
    settings: Settings,
    feed: Feed,
    pool: asyncpg.Pool,
    *,
    offsets: bool = True,
    count: int | None = None,
) -> Runners:
    """`count` runners (`settings.replay_runners` unless given) applying `feed` into `pool`'s
    (staging) schema. `offsets`: False for a part of a load, whose offsets the rebuild stores
    once all parts are done (two parts storing theirs would overwrite each other's, and wait
    on each other)."""
    count = settings.replay_runners if count is None else count
    split = count > 1
    return Runners(
        offsets=offsets,
        runners=[
            ProjectionRunner(
                PROJECTION,
                feed,
                pool,
                dispatch.apply,
                batch_size=max(settings.projection_batch_size, REPLAY_BATCH_SIZE),
                batching=dispatch.BATCHING if settings.projection_batched else None,
                # A span per event of the whole history would bury every trace worth reading.
                traced=False,
                copy_from=settings.projection_copy_rows,
                unique_events=feed.unique_events,
                keeps_offsets=offsets and not split,
            )
            for _ in range(count)
        ],
    )


class Runners:
    """The rebuild's projection runners, each applying the events of some contracts: a batch
    read is split between them by its messages' keys (a contract's events all go to one, in
    order; contracts share no rows), and they apply their parts at once, each on its own
    connection. While one waits for the database, another runs its handlers; the database
    works on both parts at once. With more than one, the runners keep no offsets: the next
    offsets are stored once the feed is drained (`settle`), before the swap reads them (a
    failed rebuild is dropped whole, so nothing needs them committed with each batch)."""

    def __init__(self, runners: Sequence[ProjectionRunner], *, offsets: bool = True) -> None:
        self.runners = list(runners)
        self.batch_size = runners[0].batch_size
        self._offsets = offsets
        # The next offsets of what was applied and is not stored yet.
        self._unsettled: dict[Partition, int] = {}
        # Applied elsewhere (by another process of the rebuild): see `add_applied`.
        self._applied_elsewhere = 0

    @property
    def applied(self) -> int:
        return self._applied_elsewhere + sum(runner.applied for runner in self.runners)

    def add_applied(self, count: int) -> None:
        """Count `count` events applied into the same schema by other runners."""
        self._applied_elsewhere += count

    async def apply_batch(self, messages: Sequence[Message]) -> None:
        if len(self.runners) == 1:
            await self.runners[0].apply_batch(messages)
            return
        parts: list[list[Message]] = [[] for _ in self.runners]
        offsets = self._unsettled
        for message in messages:
            parts[shard_of(message.key or b"", len(parts))].append(message)
            offsets[Partition(message.topic, message.partition)] = message.offset + 1
        applying = [
            asyncio.create_task(runner.apply_batch(part))
            for runner, part in zip(self.runners, parts, strict=True)
            if part
        ]
        try:
            await asyncio.gather(*applying)
        finally:  # one failed: the others stop too (the rebuild is given up)
            for task in applying:
                task.cancel()
            await asyncio.gather(*applying, return_exceptions=True)

    async def settle(self) -> None:
        """Store the next offsets of everything applied so far (unless they are not kept)."""
        if self._unsettled and self._offsets:
            await self.runners[0].store_offsets(self._unsettled)
            self._unsettled = {}


async def drain(runner: Runners, feed: Feed, progress: Progress) -> None:
    """Apply batches until the feed has given everything up to its target."""
    last_read = time.monotonic()
    progress(feed.done, feed.total)
    while not await feed.caught_up():
        messages = await feed.fetch(timeout=1.0, max_records=runner.batch_size)
        if messages:
            await runner.apply_batch(messages)
            last_read = time.monotonic()
        elif time.monotonic() - last_read > STALL_SECONDS:
            raise ReplayFailed(f"nothing could be read for {STALL_SECONDS:.0f} s")
        progress(feed.done, feed.total)
    await runner.settle()
