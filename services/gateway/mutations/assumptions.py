"""recordAssumption: the provider records what its delivery assumes on a contract (declared in
shared/commands/assumptions.py); the answer is the contract, whose `raid` lists it."""

from __future__ import annotations

import strawberry
import strawberry.experimental.pydantic
from strawberry.types import Info

from services.gateway.commands import run
from services.gateway.context import GatewayContext
from services.gateway.payloads import ContractResult, contract_changed
from shared.commands import assumptions


@strawberry.experimental.pydantic.input(model=assumptions.RecordAssumption, all_fields=True)
class RecordAssumptionInput:
    contract_id: strawberry.ID


@strawberry.type
class AssumptionMutations:
    @strawberry.mutation(description=assumptions.RECORD_ASSUMPTION.description)
    async def record_assumption(
        self, info: Info[GatewayContext, None], input: RecordAssumptionInput
    ) -> ContractResult:
        return await run(
            info, assumptions.RECORD_ASSUMPTION, input, contract_changed, shows="contract_id"
        )
