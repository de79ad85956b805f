"""One LISTEN connection wakes every subscriber of the gateway, and survives losing it."""

from __future__ import annotations

import asyncio

import asyncpg

from services.gateway.listening import ReadModelChanges
from services.gateway.projector import NOTIFY_CHANNEL
from services.gateway.replay import REPLAYED


async def notify(database_url: str, payload: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, payload)
    finally:
        await conn.close()


async def test_every_subscriber_is_woken_and_told_of_a_replay(database_url: str) -> None:
    changes = ReadModelChanges(database_url)
    await changes.start()
    try:
        with changes.subscribe() as first, changes.subscribe() as second:
            await notify(database_url, "gateway-readmodel")
            async with asyncio.timeout(5):
                assert await first.wait() is False
                assert await second.wait() is False
            await notify(database_url, REPLAYED)
            async with asyncio.timeout(5):
                assert await first.wait() is True  # the audit log was renumbered
                assert await second.wait() is True
        # Unsubscribed doorbells are not rung any more.
        assert not changes._subscribers
    finally:
        await changes.stop()


async def test_a_lost_connection_is_replaced_and_subscribers_read_again(database_url: str) -> None:
    changes = ReadModelChanges(database_url)
    await changes.start()
    try:
        with changes.subscribe() as wakeup:
            listening = changes._connection
            assert listening is not None
            admin = await asyncpg.connect(database_url)
            try:
                await admin.execute("SELECT pg_terminate_backend($1)", listening.get_server_pid())
            finally:
                await admin.close()
            async with asyncio.timeout(10):
                await wakeup.wait()  # woken on reconnection, to read what it may have missed
            assert changes._connection is not None and changes._connection is not listening
            await notify(database_url, "gateway-readmodel")
            async with asyncio.timeout(5):
                assert await wakeup.wait() is False
    finally:
        await changes.stop()
