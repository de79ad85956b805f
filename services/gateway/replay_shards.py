"""A rebuild loaded by several processes at once, into the same staging schema.

One interpreter decodes every event and runs every handler, one event after another: on a
machine of several cores it keeps one busy while the database waits for its statements. Here
each of `settings.replay_processes` processes reads the events (the stores' rows, or the
topics' messages) up to the same targets and applies those of its share of the contracts
(`Shard`: a contract's events all go to one, in order; contracts share no rows), so the
interpreters and the database work at once. What comes after the targets is applied by the
rebuild's own runners, as before any swap. A process that fails, or ends without answering,
fails the rebuild; the others are stopped.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Literal

from services.gateway.kafka_feed import KafkaFeed
from services.gateway.projector import TOPICS
from services.gateway.replay_runners import ReplayFailed, drain, runners_for
from services.gateway.store_feed import STORE_SERVICES, Shard, StoreFeed
from shared import collector
from shared.bus import Partition
from shared.bus_kafka import KafkaAccess
from shared.database import create_pool
from shared.settings import Settings

# How often the rebuild looks at its processes: their progress, and whether they ended.
POLL_S = 0.1
# How long a stopped process gets to end before it is killed.
STOP_S = 5.0

# Called with the events every process has read so far.
Loaded = Callable[[int], None]
# Where each service's stored events, or each partition's messages, are read from or up to.
Positions = dict[str, int] | dict[Partition, int]
Source = Literal["kafka", "store"]


async def load(
    settings: Settings,
    staging: str,
    source: Source,
    after: Positions,
    targets: Positions,
    loaded: Loaded,
) -> int:
    """Apply the events of `source` after `after` up to `targets` (notification ids by
    service, or offsets by partition) into `staging`, split between processes; answers how
    many were applied."""
    count = settings.replay_processes
    context = multiprocessing.get_context("spawn")  # no copy of this process's loop or sockets
    read = context.Array("q", count, lock=False)
    parts: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    try:
        for index in range(count):
            receiving, sending = context.Pipe(duplex=False)
            share = Share(settings, staging, source, Shard(index, count), after, targets)
            started = context.Process(
                target=_load_share,
                args=(share, read, sending),
                name=f"accord-replay-{index + 1}-of-{count}",
                daemon=True,
            )
            started.start()
            sending.close()
            parts.append((started, receiving))
        applied = 0
        waiting = list(parts)
        while waiting:
            await asyncio.sleep(POLL_S)
            loaded(min(read))
            for part in list(waiting):
                process, receiving = part
                if receiving.poll():
                    applied += _outcome(process, receiving)
                    waiting.remove(part)
                elif not process.is_alive():
                    raise _ended(process)
        return applied
    finally:
        # Joining blocks: off the event loop.
        await asyncio.to_thread(_stop, parts)


def _stop(parts: list[tuple[multiprocessing.process.BaseProcess, Connection]]) -> None:
    """Every process ended (stopped if need be, killed if that is not enough), pipes closed."""
    for stopping, pipe in parts:
        if stopping.is_alive():
            stopping.terminate()
        stopping.join(STOP_S)
        if stopping.is_alive():
            stopping.kill()
            stopping.join()
        pipe.close()


def _outcome(process: multiprocessing.process.BaseProcess, receiving: Connection) -> int:
    try:
        kind, value = receiving.recv()
    except EOFError:
        process.join(STOP_S)  # it closed its end as it ended: a moment, at most
        raise _ended(process) from None
    if kind == "failed":
        raise ReplayFailed(f"{process.name} failed: {value}")
    return int(value)


def _ended(process: multiprocessing.process.BaseProcess) -> ReplayFailed:
    return ReplayFailed(
        f"{process.name} ended with exit code {process.exitcode}, without an answer"
    )


@dataclass(frozen=True)
class Share:
    """What one process of the load is given: where to apply, what to read, its shard."""

    settings: Settings
    staging: str
    source: Source
    shard: Shard
    after: Positions
    targets: Positions


def _load_share(share: Share, read: MutableSequence[int], answer: Connection) -> None:
    """A process's part of the load (its entry point): `read[its index]` counts what it read."""
    collector.tune(share.settings.gc_threshold)
    try:
        applied = asyncio.run(_load(share, read))
    except Exception as error:
        answer.send(("failed", f"{type(error).__name__}: {error}"))
        raise
    answer.send(("applied", applied))
    answer.close()


async def _load(share: Share, read: MutableSequence[int]) -> int:
    settings, shard = share.settings, share.shard
    feed: KafkaFeed | StoreFeed
    if share.source == "kafka":
        feed = KafkaFeed(KafkaAccess.of(settings), TOPICS, shard=shard)
    else:
        feed = StoreFeed(
            settings.database_url, STORE_SERVICES, decode=settings.replay_decode, shard=shard
        )
    await feed.start_between(share.after, share.targets)  # type: ignore[arg-type]
    pool = await create_pool(settings.database_url, share.staging)
    try:
        # One runner: a process's interpreter is what bounds its part, and a second runner
        # only splits its batches into smaller statements (a million events from the stores,
        # three runs each way: 18,355/s median with one against 16,718/s with two).
        runners = runners_for(settings, feed, pool, offsets=False, count=1)

        def progress(done: int, _total: int) -> None:
            read[shard.index] = done

        await drain(runners, feed, progress)
        return runners.applied
    finally:
        await pool.close()
        await feed.stop()
