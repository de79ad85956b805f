"""What a mutation answers when the service accepted it: the changed object as the read model
shows it, its new version, and whether the read model had caught up."""

from __future__ import annotations

from typing import Annotated

import strawberry

from services.gateway import reads
from services.gateway.commands import Done
from services.gateway.context import GatewayContext
from services.gateway.outcomes import Refusals
from services.gateway.queries import Contract, load_contract
from services.gateway.types import Expectation, Obligation, Prioritization, Risk

CREATED = (
    "The id of what the mutation created: the object itself (a contract, an expectation...) or"
    " something inside it (a question, a measurement, a gap); null if it created nothing."
)
CONSISTENT = "False if the read model had not yet caught up."
CONTRACT_VERSION = (
    "The contract's version, as its next command's `expectedVersion` names it (a question, a"
    " lesson or an assumption recorded on it leaves it as it was)."
)


@strawberry.type
class ContractChanged:
    contract: Contract | None
    version: int = strawberry.field(description=CONTRACT_VERSION)
    consistent: bool = strawberry.field(description=CONSISTENT)
    created: strawberry.ID | None = strawberry.field(default=None, description=CREATED)


@strawberry.type
class ExpectationChanged:
    expectation: Expectation | None
    version: int
    consistent: bool = strawberry.field(description=CONSISTENT)
    created: strawberry.ID | None = strawberry.field(default=None, description=CREATED)


@strawberry.type
class ObligationChanged:
    obligation: Obligation | None
    version: int
    consistent: bool = strawberry.field(description=CONSISTENT)
    created: strawberry.ID | None = strawberry.field(default=None, description=CREATED)


@strawberry.type
class RiskChanged:
    risk: Risk | None
    version: int
    consistent: bool = strawberry.field(description=CONSISTENT)
    created: strawberry.ID | None = strawberry.field(default=None, description=CREATED)


@strawberry.type
class PrioritizationChanged:
    prioritization: Prioritization | None
    version: int
    consistent: bool = strawberry.field(description=CONSISTENT)
    created: strawberry.ID | None = strawberry.field(default=None, description=CREATED)


ContractResult = Annotated[ContractChanged | Refusals, strawberry.union("ContractResult")]
ExpectationResult = Annotated[ExpectationChanged | Refusals, strawberry.union("ExpectationResult")]
ObligationResult = Annotated[ObligationChanged | Refusals, strawberry.union("ObligationResult")]
RiskResult = Annotated[RiskChanged | Refusals, strawberry.union("RiskResult")]
PrioritizationResult = Annotated[
    PrioritizationChanged | Refusals, strawberry.union("PrioritizationResult")
]


async def contract_changed(ctx: GatewayContext, done: Done) -> ContractChanged:
    found = await load_contract(ctx, done.key)
    # A question, a lesson or an assumption is an aggregate of its own: its version is not the
    # contract's, which the command left as the read model shows it.
    version = found.version if found is not None and done.changed != done.key else done.version
    return ContractChanged(
        contract=found, version=version, consistent=done.consistent, created=done.created
    )


async def expectation_changed(ctx: GatewayContext, done: Done) -> ExpectationChanged:
    found = await reads.expectation(ctx.pool, done.key)
    return ExpectationChanged(
        expectation=found, version=done.version, consistent=done.consistent, created=done.created
    )


async def obligation_changed(ctx: GatewayContext, done: Done) -> ObligationChanged:
    row = await ctx.pool.fetchval(
        "SELECT contract_id FROM obligations WHERE obligation_id = $1", done.key
    )
    found = (
        [o for o in (await reads.obligations_of(ctx.pool, [row]))[0] if o.id == done.key]
        if row
        else []
    )
    return ObligationChanged(
        obligation=found[0] if found else None,
        version=done.version,
        consistent=done.consistent,
        created=done.created,
    )


async def risk_changed(ctx: GatewayContext, done: Done) -> RiskChanged:
    row = await ctx.pool.fetchval("SELECT contract_id FROM risks WHERE risk_id = $1", done.key)
    found = (
        [r for r in (await reads.risks_of(ctx.pool, [row]))[0] if r.id == done.key] if row else []
    )
    return RiskChanged(
        risk=found[0] if found else None,
        version=done.version,
        consistent=done.consistent,
        created=done.created,
    )


async def prioritization_changed(ctx: GatewayContext, done: Done) -> PrioritizationChanged:
    found = await reads.prioritization(ctx.pool, done.key)
    return PrioritizationChanged(
        prioritization=found, version=done.version, consistent=done.consistent, created=done.created
    )
