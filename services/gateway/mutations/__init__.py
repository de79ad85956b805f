"""The mutations: one per command of every service, each answering a union of the changed
object and typed refusals (see services/gateway/commands.py)."""

from __future__ import annotations

import strawberry

from services.gateway.baselines import BaselineMutations
from services.gateway.mutations.assumptions import AssumptionMutations
from services.gateway.mutations.deadlines import DeadlineMutations
from services.gateway.mutations.elicitation import ElicitationMutations
from services.gateway.mutations.ranking import RankingMutations
from services.gateway.notifications import NotificationMutations
from services.gateway.suspects import SuspectMutations


@strawberry.type
class Mutation(
    ElicitationMutations,
    RankingMutations,
    NotificationMutations,
    BaselineMutations,
    DeadlineMutations,
    SuspectMutations,
    AssumptionMutations,
):
    pass
