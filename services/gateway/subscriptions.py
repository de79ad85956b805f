"""Live events of a contract, pushed from the projector's NOTIFY (no polling)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import Info

from services.gateway.access import role_on
from services.gateway.context import GatewayContext
from services.gateway.projector import NOTIFY_CHANNEL
from services.gateway.replay import REPLAYED
from services.gateway.types import AuditEntry


def entry_of(r: Any) -> AuditEntry:
    return AuditEntry(
        event_id=r["event_id"], event_type=r["event_type"], occurred_at=r["occurred_at"],
        actor_id=r["actor_id"], actor_role=r["actor_role"], subject=r["subject"],
        sequence=r["sequence"], correlation_id=r["correlation_id"],
        causation_id=r["causation_id"], data=json.loads(r["data"]),
    )  # fmt: skip


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Each event of the contract as the read model applies it.")
    async def contract_events(
        self, info: Info[GatewayContext, None], contract_id: strawberry.ID
    ) -> AsyncGenerator[AuditEntry, None]:
        ctx = info.context
        await role_on(ctx, str(contract_id))
        woken = asyncio.Event()
        replayed = False

        def wake(_conn: Any, _pid: int, _channel: str, payload: object) -> None:
            nonlocal replayed
            # After a replay the audit log is renumbered: continue from its new end.
            replayed = replayed or payload == REPLAYED
            woken.set()

        async with ctx.pool.acquire() as conn:
            seen = await conn.fetchval("SELECT coalesce(max(position), 0) FROM audit_log")
            await conn.add_listener(NOTIFY_CHANNEL, wake)
            try:
                while True:
                    await woken.wait()
                    woken.clear()
                    if replayed:
                        replayed = False
                        seen = await conn.fetchval(
                            "SELECT coalesce(max(position), 0) FROM audit_log"
                        )
                        continue
                    rows = await conn.fetch(
                        "SELECT * FROM audit_log WHERE position > $1 AND contract_id = $2"
                        " ORDER BY position",
                        seen, str(contract_id),
                    )  # fmt: skip
                    seen = await conn.fetchval(
                        "SELECT greatest($1::bigint, coalesce(max(position), 0)) FROM audit_log",
                        seen,
                    )
                    for row in rows:
                        yield entry_of(row)
            finally:
                await conn.remove_listener(NOTIFY_CHANNEL, wake)
