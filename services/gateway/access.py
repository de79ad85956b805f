"""Who sees what: a person sees only contracts on which they have a role, and learns nothing
of the others, not even whether an id names something."""

from __future__ import annotations

from services.gateway.context import GatewayContext
from services.gateway.outcomes import Forbidden, NotFound, Refusal, refusal
from services.gateway.protection import Refused
from shared.auth import Actor

# The contract of the object an id field names, from the read model.
CONTRACT_OF = {
    "contract_id": "SELECT $1::text",
    "expectation_id": "SELECT contract_id FROM expectations WHERE expectation_id = $1",
    "obligation_id": "SELECT contract_id FROM obligations WHERE obligation_id = $1",
    "risk_id": "SELECT contract_id FROM risks WHERE risk_id = $1",
    "lesson_id": "SELECT contract_id FROM lessons WHERE lesson_id = $1",
    "prioritization_id": "SELECT contract_id FROM prioritizations WHERE session_id = $1",
    "baseline_id": "SELECT contract_id FROM baselines WHERE baseline_id = $1",
    # A suspect item (a commitment, an obligation, a risk, a baseline, a ranking) by its flags.
    "item_id": "SELECT contract_id FROM suspect_links WHERE item_id = $1 LIMIT 1",
    # A notice's contract, from the event that queued it (one notice each before v2, a set since).
    "notice_id": "SELECT data->>'contract_id' FROM audit_log"
    " WHERE event_type LIKE 'accord.notifications.NotificationQueued.%'"
    " AND (data->>'notice_id' = $1 OR data->'notices' @> jsonb_build_array("
    "jsonb_build_object('notice_id', $1::text))) LIMIT 1",
}


def actor_of(ctx: GatewayContext) -> Actor:
    """The authenticated caller; every operation needs one."""
    if ctx.actor is None:
        raise Refused("UNAUTHENTICATED", ctx.refused or "a bearer token is required")
    return ctx.actor


async def role_on(ctx: GatewayContext, contract_id: str) -> str:
    """The caller's role on the contract; FORBIDDEN when they have none (or there is no such
    contract: the answer is the same)."""
    actor = actor_of(ctx)
    role: str | None = await ctx.pool.fetchval(
        "SELECT role FROM participants WHERE contract_id = $1 AND person_id = $2 AND active",
        contract_id,
        actor.subject,
    )
    if role is None:
        raise Refused("FORBIDDEN", f"{actor.subject} has no role on contract {contract_id}")
    return role


async def sees(ctx: GatewayContext, field: str, key: str) -> bool:
    """Whether the caller has a role on the contract of the object `field` = `key` names."""
    found: bool = await ctx.pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM participants WHERE contract_id = "
        f"({CONTRACT_OF[field]}) AND person_id = $2 AND active)",
        key,
        actor_of(ctx).subject,
    )
    return found


def unseen(ctx: GatewayContext, field: str, key: str) -> Refusal:
    """What a mutation answers about an object the caller cannot see, whether it exists or not:
    on a contract, as the queries do (no role); on anything in one, that there is none."""
    if field == "contract_id":
        message = f"{actor_of(ctx).subject} has no role on contract {key}"
        return refusal(Forbidden, "NOT_A_PARTICIPANT", message, {field: key})
    kind = field.removesuffix("_id")
    message = f"there is no {kind} {key}"
    return refusal(NotFound, f"UNKNOWN_{kind.upper()}", message, {field: key})
