"""Live events of a contract, pushed from the projector's NOTIFY (no polling)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Any

import asyncpg
import strawberry
from strawberry.types import Info

from services.gateway.access import role_on
from services.gateway.context import GatewayContext
from services.gateway.ids import id_argument
from services.gateway.protection import Refused
from services.gateway.types import AuditEntry, jsonb

LAST_POSITION = "SELECT coalesce(max(position), 0) FROM audit_log"


async def audit_rows_after(
    ctx: GatewayContext, query: str, *args: Any
) -> AsyncGenerator[asyncpg.Record, None]:
    """The rows of `query` (given the last audit position seen as $1, answering `position`)
    as each batch of the projector lands; after a replay, from the renumbered log's end."""
    if ctx.changes is None:
        raise Refused("UNAVAILABLE", "live updates are not served here")
    with ctx.changes.subscribe() as wakeup:
        seen = await ctx.pool.fetchval(LAST_POSITION)
        while True:
            if await wakeup.wait():
                seen = await ctx.pool.fetchval(LAST_POSITION)
                continue
            for row in await ctx.pool.fetch(query, seen, *args):
                seen = row["position"]
                yield row


def entry_of(r: Any) -> AuditEntry:
    return AuditEntry(
        event_id=r["event_id"], event_type=r["event_type"], occurred_at=r["occurred_at"],
        actor_id=r["actor_id"], actor_role=r["actor_role"], subject=r["subject"],
        sequence=r["sequence"], correlation_id=r["correlation_id"],
        causation_id=r["causation_id"], data=jsonb(r["data"]),
    )  # fmt: skip


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Each event of the contract as the read model applies it.")
    async def contract_events(
        self, info: Info[GatewayContext, None], contract_id: strawberry.ID
    ) -> AsyncGenerator[AuditEntry, None]:
        ctx, contract = info.context, id_argument(contract_id, "contractId")
        await role_on(ctx, contract)
        rows = audit_rows_after(
            ctx,
            "SELECT * FROM audit_log WHERE position > $1 AND contract_id = $2 ORDER BY position",
            contract,
        )
        async with contextlib.aclosing(rows):
            async for row in rows:
                yield entry_of(row)
