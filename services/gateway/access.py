"""Who sees what: a person sees only contracts on which they have a role."""

from __future__ import annotations

from services.gateway.context import GatewayContext
from services.gateway.protection import Refused
from shared.auth import Actor


def actor_of(ctx: GatewayContext) -> Actor:
    """The authenticated caller; every operation needs one."""
    if ctx.actor is None:
        raise Refused("UNAUTHENTICATED", ctx.refused or "a bearer token is required")
    return ctx.actor


async def role_on(ctx: GatewayContext, contract_id: str) -> str:
    """The caller's role on the contract; FORBIDDEN when they have none."""
    actor = actor_of(ctx)
    role: str | None = await ctx.pool.fetchval(
        "SELECT role FROM participants WHERE contract_id = $1 AND person_id = $2 AND active",
        contract_id,
        actor.subject,
    )
    if role is None:
        raise Refused("FORBIDDEN", f"{actor.subject} has no role on contract {contract_id}")
    return role
