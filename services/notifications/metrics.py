"""What the notifications service adds to /metrics: the notices still to send, and those every
attempt failed for."""

from __future__ import annotations

import asyncpg

from services.notifications.notice import NoticeStatus
from shared.metrics import Reading


async def notices_waiting(pool: asyncpg.Pool) -> list[Reading]:
    """The notices still to send and those given up on, by status (each counted on its partial
    index: the delivered ones, nearly all of them, are not read)."""
    rows = await pool.fetch(
        "SELECT status, count(*) AS n FROM notices WHERE status IN ('queued', 'retrying')"
        " GROUP BY status UNION ALL SELECT 'dead_lettered', count(*) FROM notices"
        " WHERE status = 'dead_lettered'"
    )
    counted = {row["status"]: row["n"] for row in rows}
    waiting = (NoticeStatus.QUEUED, NoticeStatus.RETRYING, NoticeStatus.DEAD_LETTERED)
    return [Reading("accord_notices", s.value, counted.get(s.value, 0)) for s in waiting]
