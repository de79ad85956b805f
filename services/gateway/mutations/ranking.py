"""The ranking service's commands as mutations: each input follows from the command's body
model (shared/commands/ranking.py), with the ids its route names."""

from __future__ import annotations

import strawberry
import strawberry.experimental.pydantic
from strawberry.types import Info

from services.gateway.commands import run
from services.gateway.context import GatewayContext
from services.gateway.payloads import (
    PrioritizationResult,
    prioritization_changed,
)
from shared.commands import ranking


@strawberry.experimental.pydantic.input(model=ranking.OpenPrioritization, all_fields=True)
class OpenPrioritizationInput:
    contract_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=ranking.DotsFor, all_fields=True)
class DotsForInput:
    pass


@strawberry.experimental.pydantic.input(model=ranking.CastVote, all_fields=True)
class CastVoteInput:
    prioritization_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=ranking.WithdrawVote, all_fields=True)
class WithdrawVoteInput:
    prioritization_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=ranking.ClosePrioritization, all_fields=True)
class ClosePrioritizationInput:
    prioritization_id: strawberry.ID


@strawberry.type
class RankingMutations:
    @strawberry.mutation(description=ranking.OPEN_PRIORITIZATION.description)
    async def open_prioritization(
        self, info: Info[GatewayContext, None], input: OpenPrioritizationInput
    ) -> PrioritizationResult:
        return await run(info, ranking.OPEN_PRIORITIZATION, input, prioritization_changed)

    @strawberry.mutation(description=ranking.CAST_VOTE.description)
    async def cast_vote(
        self, info: Info[GatewayContext, None], input: CastVoteInput
    ) -> PrioritizationResult:
        return await run(info, ranking.CAST_VOTE, input, prioritization_changed)

    @strawberry.mutation(description=ranking.WITHDRAW_VOTE.description)
    async def withdraw_vote(
        self, info: Info[GatewayContext, None], input: WithdrawVoteInput
    ) -> PrioritizationResult:
        return await run(info, ranking.WITHDRAW_VOTE, input, prioritization_changed)

    @strawberry.mutation(description=ranking.CLOSE_PRIORITIZATION.description)
    async def close_prioritization(
        self, info: Info[GatewayContext, None], input: ClosePrioritizationInput
    ) -> PrioritizationResult:
        return await run(info, ranking.CLOSE_PRIORITIZATION, input, prioritization_changed)
