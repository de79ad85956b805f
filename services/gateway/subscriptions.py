"""Live events of a contract, pushed from the projector's NOTIFY (no polling)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import Info

from services.gateway.access import role_on
from services.gateway.context import GatewayContext
from services.gateway.listening import Wakeup
from services.gateway.protection import Refused
from services.gateway.types import AuditEntry

LAST_POSITION = "SELECT coalesce(max(position), 0) FROM audit_log"


def listening(ctx: GatewayContext) -> contextlib.AbstractContextManager[Wakeup]:
    """The subscriber's doorbell, rung when the read models change."""
    if ctx.changes is None:
        raise Refused("UNAVAILABLE", "live updates are not served here")
    return ctx.changes.subscribe()


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
        with listening(ctx) as wakeup:
            seen = await ctx.pool.fetchval(LAST_POSITION)
            while True:
                if await wakeup.wait():
                    seen = await ctx.pool.fetchval(LAST_POSITION)  # renumbered: from its new end
                    continue
                rows = await ctx.pool.fetch(
                    "SELECT * FROM audit_log WHERE position > $1 AND contract_id = $2"
                    " ORDER BY position",
                    seen, str(contract_id),
                )  # fmt: skip
                for row in rows:
                    seen = row["position"]
                    yield entry_of(row)
