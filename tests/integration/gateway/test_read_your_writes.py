"""Read-your-writes: the commands waiting for the read model are checked together, one read of
the audit log per change of the read models, however many wait; each answers once all its
own events are in, or says it gave up waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from services.gateway.consistency import (
    REMEMBER_SECONDS,
    CommittedBatches,
    ReadYourWrites,
    checking_pool,
)
from services.gateway.listening import ReadModelChanges
from services.gateway.projector import NOTIFY_CHANNEL
from shared.projection import BatchResult
from tests.support.statements import noting_pool

Statements = list[str]


@pytest.fixture
async def logged_pool(database_url: str, schema: str, pool: asyncpg.Pool) -> AsyncIterator[Any]:
    """A pool on the test's read models whose every statement asyncpg logs."""
    async with noting_pool(database_url, schema, max_size=4) as (logged, statements):
        yield logged, statements


@pytest.fixture
async def changes(database_url: str) -> AsyncIterator[ReadModelChanges]:
    listening = ReadModelChanges(database_url)
    await listening.start()
    yield listening
    await listening.stop()


async def apply(pool: asyncpg.Pool, event_ids: list[str]) -> None:
    """What the projector does for a batch: the events into the audit log, then its NOTIFY."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO audit_log (event_id, event_type, source, subject, contract_id, sequence,"
            " occurred_at, actor_id, actor_role, correlation_id, causation_id, data, topic,"
            " partition, \"offset\") VALUES ($1, 't', 's', 'x', 'c', 1, now(), 'a', 'r', '', '',"
            " '{}', 'topic', 0, 0)",
            [(e,) for e in event_ids],
        )  # fmt: skip
        await conn.execute("SELECT pg_notify($1, 'gateway-readmodel')", NOTIFY_CHANNEL)


def reads(statements: Statements) -> int:
    return sum("FROM audit_log" in s for s in statements)


async def test_sixteen_waiting_commands_are_answered_by_one_read_per_change(
    pool: asyncpg.Pool, logged_pool: Any, changes: ReadModelChanges
) -> None:
    logged, statements = logged_pool
    waits = ReadYourWrites(logged, changes)
    commands = [[str(uuid4()), str(uuid4())] for _ in range(16)]
    waiting = [asyncio.ensure_future(waits.caught_up(ids, within=30)) for ids in commands]
    await asyncio.sleep(0.05)  # all sixteen wait
    assert not any(w.done() for w in waiting)
    first_reads = reads(statements)

    # One batch brings half the commands' events, and one of each other command's two.
    await apply(pool, [e for ids in commands[:8] for e in ids] + [ids[0] for ids in commands[8:]])
    async with asyncio.timeout(10):
        assert await asyncio.gather(*waiting[:8]) == [True] * 8
    await asyncio.sleep(0.05)
    assert not any(w.done() for w in waiting[8:])  # half their events are not in yet
    await apply(pool, [ids[1] for ids in commands[8:]])
    async with asyncio.timeout(10):
        assert await asyncio.gather(*waiting[8:]) == [True] * 8

    # Each waiting command reading for itself made sixteen reads a change, and one each to
    # start; together, one read a change (a poll may add one).
    assert first_reads <= 2
    assert reads(statements) <= first_reads + 4


async def test_a_command_whose_events_are_in_already_is_answered_at_once(
    pool: asyncpg.Pool, changes: ReadModelChanges
) -> None:
    events = [str(uuid4())]
    await apply(pool, events)
    waits = ReadYourWrites(pool, changes)
    async with asyncio.timeout(2):
        assert await waits.caught_up(events, within=30) is True
        assert await waits.caught_up([], within=30) is True


async def test_without_a_notify_the_poll_finds_the_events(pool: asyncpg.Pool) -> None:
    waits = ReadYourWrites(pool, None)  # nobody listens: the slow poll is the safety net
    events = [str(uuid4())]
    waiting = asyncio.ensure_future(waits.caught_up(events, within=30))
    await asyncio.sleep(0.05)
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO audit_log (event_id, event_type, source, subject, contract_id, sequence,"
            " occurred_at, actor_id, actor_role, correlation_id, causation_id, data, topic,"
            " partition, \"offset\") VALUES ($1, 't', 's', 'x', 'c', 1, now(), 'a', 'r', '', '',"
            " '{}', 'topic', 0, 0)",
            events[0],
        )  # fmt: skip
    async with asyncio.timeout(5):
        assert await waiting is True


async def test_a_command_whose_events_never_come_gives_up_and_the_others_go_on(
    pool: asyncpg.Pool, changes: ReadModelChanges
) -> None:
    waits = ReadYourWrites(pool, changes)
    never = asyncio.ensure_future(waits.caught_up([str(uuid4())], within=0.3))
    later = [str(uuid4())]
    waiting = asyncio.ensure_future(waits.caught_up(later, within=30))
    async with asyncio.timeout(5):
        assert await never is False
    await apply(pool, later)
    async with asyncio.timeout(5):
        assert await waiting is True


async def test_a_failed_read_fails_every_waiting_command_and_the_next_ones_read_again(
    database_url: str, schema: str, pool: asyncpg.Pool, changes: ReadModelChanges
) -> None:
    broken = await asyncpg.create_pool(database_url, min_size=1, max_size=1)  # no audit_log
    waits = ReadYourWrites(broken, changes)
    waiting = [asyncio.ensure_future(waits.caught_up([str(uuid4())], within=30)) for _ in "ab"]
    async with asyncio.timeout(5):
        failed = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(f, asyncpg.UndefinedTableError) for f in failed)
    await broken.close()
    waits.pool = pool  # the database is back
    events = [str(uuid4())]
    await apply(pool, events)
    async with asyncio.timeout(5):
        assert await waits.caught_up(events, within=30) is True


async def test_a_projector_in_the_same_process_answers_its_waiting_commands_without_a_read(
    pool: asyncpg.Pool, logged_pool: Any, changes: ReadModelChanges
) -> None:
    """In `accord dev` the projector tells the gateway what each batch it committed applied:
    the commands waiting only on those events are answered then, with no read of the audit
    log; the others still wait, and the NOTIFY's read answers them as before."""
    logged, statements = logged_pool
    waits, batches = ReadYourWrites(logged, changes), CommittedBatches()
    mine, other = [str(uuid4()), str(uuid4())], [str(uuid4())]
    with batches.listening(waits.applied):
        waiting = [asyncio.ensure_future(waits.caught_up(ids, within=30)) for ids in (mine, other)]
        await asyncio.sleep(0.05)  # both wait, after the one read that starts a wait
        before = reads(statements)
        batches(BatchResult(applied=2, event_ids=mine))
        async with asyncio.timeout(1):
            assert await waiting[0] is True
        assert reads(statements) == before and not waiting[1].done()
    batches(BatchResult(applied=1, event_ids=other))  # nobody listens any more
    await asyncio.sleep(0.05)
    assert not waiting[1].done()
    await apply(pool, other)
    async with asyncio.timeout(10):
        assert await waiting[1] is True


class Clock:
    """The time read-your-writes goes by, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def waits_on(waiting: asyncio.Future[bool]) -> None:
    """Let the command start its wait (a few turns of the loop, no time passes)."""
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done()


async def test_a_command_that_began_while_the_gateway_heard_the_projector_waits_without_a_read(
    pool: asyncpg.Pool, logged_pool: Any
) -> None:
    """The ids the projector beside the gateway told are kept a while: a command that began
    since is answered from them, whether its events were applied before it began to wait or
    come after, and reads nothing. A command that began before (or before what is kept) reads
    once, as every command did."""
    logged, statements = logged_pool
    clock = Clock()
    waits, batches = ReadYourWrites(logged, None, clock=clock), CommittedBatches()
    with waits.hearing(batches):
        clock.now += 1
        began = clock()
        before_its_wait, after_it = [str(uuid4())], [str(uuid4()), str(uuid4())]
        batches(BatchResult(applied=1, event_ids=before_its_wait))
        async with asyncio.timeout(1):
            assert await waits.caught_up(before_its_wait, within=30, stored_after=began) is True
        waiting = asyncio.ensure_future(waits.caught_up(after_it, within=30, stored_after=began))
        await waits_on(waiting)
        batches(BatchResult(applied=1, event_ids=after_it[:1]))
        await waits_on(waiting)  # one of its two events is not in yet
        batches(BatchResult(applied=1, event_ids=after_it[1:]))
        async with asyncio.timeout(1):
            assert await waiting is True
        assert reads(statements) == 0

        # Began before the gateway heard: its events may have been applied unheard.
        unheard = [str(uuid4())]
        await apply(pool, unheard)
        async with asyncio.timeout(5):
            assert await waits.caught_up(unheard, within=30, stored_after=began - 2) is True
        assert reads(statements) == 1

        # What was told longer ago than is kept is forgotten: a command that began before then
        # reads, one that began after does not.
        clock.now += REMEMBER_SECONDS + 1
        batches(BatchResult(applied=1, event_ids=[str(uuid4())]))
        await apply(pool, before_its_wait)
        async with asyncio.timeout(5):
            assert await waits.caught_up(before_its_wait, within=30, stored_after=began) is True
        assert reads(statements) == 2
        fresh = [str(uuid4())]
        batches(BatchResult(applied=1, event_ids=fresh))
        async with asyncio.timeout(1):
            assert await waits.caught_up(fresh, within=30, stored_after=clock() - 1) is True
        assert reads(statements) == 2


async def scans_of_the_audit_log(checks: asyncpg.Pool, schema: str) -> tuple[int, int]:
    """(sequential scans, index scans) of the schema's audit log, counting the checks' own."""
    async with checks.acquire() as conn:
        # The statistics the checks' connection gathered, flushed as it goes idle.
        await conn.execute("SELECT pg_stat_force_next_flush()")
        row = await conn.fetchrow(
            "SELECT seq_scan, idx_scan FROM pg_stat_user_tables"
            " WHERE schemaname = $1 AND relname = 'audit_log'",
            schema,
        )
    assert row is not None
    return row["seq_scan"], row["idx_scan"]


async def test_the_checks_find_events_by_index_however_young_the_audit_log_was(
    database_url: str, schema: str, pool: asyncpg.Pool
) -> None:
    """A read model starts empty. A check planned once while the audit log held a few rows,
    and kept, would read the whole log for every command until the table is next analyzed:
    on a fresh database, for most of its first minute, 7 ms of the server a check at 170
    commands/s. The checks are planned for the ids they ask about, every time."""
    checks = await checking_pool(database_url, schema)
    waits = ReadYourWrites(checks, None)

    async def sixteen_commands_checked_together() -> None:
        commands = [[str(uuid4())] for _ in range(16)]
        await apply(pool, [e for ids in commands for e in ids])
        waiting = [waits.caught_up(ids, within=30) for ids in commands]
        assert await asyncio.gather(*waiting) == [True] * 16

    try:
        # More than the five runs after which PostgreSQL may keep a generic plan.
        for _ in range(8):
            await sixteen_commands_checked_together()
        await apply(pool, [str(uuid4()) for _ in range(5_000)])
        seq_before, index_before = await scans_of_the_audit_log(checks, schema)
        for _ in range(5):
            await sixteen_commands_checked_together()
        seq_after, index_after = await scans_of_the_audit_log(checks, schema)
        assert seq_after == seq_before
        assert index_after >= index_before + 5
    finally:
        await checks.close()
