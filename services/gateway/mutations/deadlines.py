"""The deadline policy's command as a mutation (declared in shared/commands/deadlines.py)."""

from __future__ import annotations

import strawberry
import strawberry.experimental.pydantic
from strawberry.types import Info

from services.gateway.commands import run
from services.gateway.context import GatewayContext
from services.gateway.payloads import ContractResult, contract_changed
from shared.commands import deadlines


@strawberry.experimental.pydantic.input(model=deadlines.SetDeadlinePolicy, all_fields=True)
class SetDeadlinePolicyInput:
    contract_id: strawberry.ID


@strawberry.type
class DeadlineMutations:
    @strawberry.mutation(description=deadlines.SET_DEADLINE_POLICY.description)
    async def set_deadline_policy(
        self, info: Info[GatewayContext, None], input: SetDeadlinePolicyInput
    ) -> ContractResult:
        return await run(info, deadlines.SET_DEADLINE_POLICY, input, contract_changed)
