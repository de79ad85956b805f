"""A contract's RAID view in one GraphQL field: risks, assumptions, issues (gaps, and deadlines
missed) and dependencies (the provider's obligations on the client). Each list is read through
the contract's relations, so `contract(id, asOf:)` shows the view as it stood then."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg
import strawberry
from strawberry.types import Info

from services.gateway import reads
from services.gateway.context import GatewayContext
from services.gateway.gap_analysis import GapEntry, gap_analyses
from services.gateway.loading import Loaded, load
from services.gateway.types import Obligation, Risk


@strawberry.enum(
    description=(
        "An issue is an expectation whose latest measurement missed its terms (GAP), or a"
        " dated promise whose deadline passed while it was open (MISSED_DEADLINE)."
    )
)
class RaidIssueKind(StrEnum):
    GAP = "gap"
    MISSED_DEADLINE = "missed_deadline"


@strawberry.type(description="An assumption the provider recorded, with who and why.")
class Assumption:
    id: strawberry.ID
    contract_id: strawberry.ID
    text: str
    why: str
    recorded_by: str
    recorded_at: datetime


@strawberry.type(description="Something that has gone wrong on the contract.")
class RaidIssue:
    kind: RaidIssueKind
    item_id: strawberry.ID = strawberry.field(
        description="GAP: the expectation; MISSED_DEADLINE: the item whose deadline it was (a"
        " recovery step's gap, with `step`)."
    )
    step: int | None = strawberry.field(description="A recovery step's number; else null.")
    title: str = strawberry.field(
        description="GAP: the expectation's text; MISSED_DEADLINE: the kind of deadline."
    )
    at: datetime | None = strawberry.field(
        description="GAP: null (the period is on the gap); MISSED_DEADLINE: when it was due."
    )
    owner: str | None = strawberry.field(description="MISSED_DEADLINE: who was warned.")
    gap: GapEntry | None = strawberry.field(
        description="GAP: the gap analysis's entry (recovery plan and steps); else null."
    )


@dataclass(frozen=True)
class RaidRows:
    """What the RAID view reads besides the contract's other relations."""

    assumptions: tuple[Assumption, ...]
    missed: tuple[RaidIssue, ...]


def _assumption(r: Any) -> Assumption:
    return Assumption(
        id=strawberry.ID(r["assumption_id"]), contract_id=strawberry.ID(r["contract_id"]),
        text=r["text"], why=r["why"], recorded_by=r["recorded_by"], recorded_at=r["created_at"],
    )  # fmt: skip


def _missed(r: Any) -> RaidIssue:
    return RaidIssue(
        kind=RaidIssueKind.MISSED_DEADLINE, item_id=strawberry.ID(r["item_id"]),
        step=r["step"] or None, title=r["kind"], at=r["due_at"], owner=r["owner"], gap=None,
    )  # fmt: skip


async def raid_rows_of(pool: asyncpg.Pool, ids: Sequence[str]) -> list[list[RaidRows]]:
    """Each contract's assumptions (as recorded) and missed deadlines (as due)."""
    keys = list(ids)
    assumptions = await pool.fetch(
        "SELECT * FROM assumptions WHERE contract_id = ANY($1::text[])"
        " ORDER BY created_at, assumption_id",
        keys,
    )
    missed = await pool.fetch(
        "SELECT * FROM deadline_warnings WHERE contract_id = ANY($1::text[]) AND missed"
        " ORDER BY due_at, item_id, step",
        keys,
    )
    return [
        [
            RaidRows(
                assumptions=tuple(_assumption(r) for r in assumptions if r["contract_id"] == key),
                missed=tuple(_missed(r) for r in missed if r["contract_id"] == key),
            )
        ]
        for key in keys
    ]


async def _rows(info: Info[GatewayContext, None], contract_id: str) -> RaidRows:
    loading = load(info, raid_rows_of, contract_id)
    [rows] = loading if isinstance(loading, list) else await loading
    return rows


@strawberry.type(
    description="The contract's RAID view: Risks, Assumptions, Issues and Dependencies."
)
class Raid:
    contract_id: strawberry.Private[str]

    @strawberry.field(graphql_type=list[Risk], description="Every risk disclosed, as disclosed.")
    def risks(self, info: Info[GatewayContext, None]) -> Loaded[Risk]:
        return load(info, reads.risks_of, self.contract_id)

    @strawberry.field(description="What the provider assumes, as recorded.")
    async def assumptions(self, info: Info[GatewayContext, None]) -> list[Assumption]:
        return list((await _rows(info, self.contract_id)).assumptions)

    @strawberry.field(
        description="What has gone wrong: each open expectation whose latest measurement missed"
        " its terms (in corporate priority order), then each deadline missed (as due)."
    )
    async def issues(self, info: Info[GatewayContext, None]) -> list[RaidIssue]:
        loading = load(info, gap_analyses, self.contract_id)
        entries = loading if isinstance(loading, list) else await loading
        gaps = [
            RaidIssue(
                kind=RaidIssueKind.GAP,
                item_id=strawberry.ID(e.expectation_id),
                step=None,
                title=e.text,
                at=None,
                owner=None,
                gap=e,
            )
            for e in entries
            if e.met is False
        ]
        return [*gaps, *(await _rows(info, self.contract_id)).missed]

    @strawberry.field(
        graphql_type=list[Obligation],
        description="What the provider needs from the client (its obligations), as proposed.",
    )
    def dependencies(self, info: Info[GatewayContext, None]) -> Loaded[Obligation]:
        return load(info, reads.obligations_of, self.contract_id)
