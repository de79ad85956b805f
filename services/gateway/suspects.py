"""Suspect links in GraphQL: each flag a refinement raised, with the diff of the terms that
raised it, the contract's list of them, each item's own (`suspect` on an expectation, an
obligation, a risk, a baseline), and the command that reviews an item (declared in
shared/commands/suspects.py). The read model takes what LinkSuspected and SuspectReviewed
carry; whether an item is suspect is elicitation's rule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import asyncpg
import orjson
import strawberry
import strawberry.experimental.pydantic
from strawberry.types import Info

from services.gateway.access import role_on, sees
from services.gateway.commands import Done, run
from services.gateway.context import GatewayContext
from services.gateway.ids import id_argument
from services.gateway.loading import load
from services.gateway.outcomes import Refusals
from shared.commands import suspects
from shared.commands.elicitation import Role
from shared.commands.suspects import ReviewOutcome


@strawberry.enum(
    description=(
        "What a flag is on: the provider's commitment to an expectation, an obligation, a"
        " risk, a baseline, or the contract's published ranking."
    )
)
class SuspectKind(StrEnum):
    COMMITMENT = "commitment"
    OBLIGATION = "obligation"
    RISK = "risk"
    BASELINE = "baseline"
    RANKING = "ranking"


@strawberry.type(description="One value of the expectation that the refinement changed.")
class TermChange:
    field: str = strawberry.field(
        description="`text`, or a term by its name in the terms: `terms.target`, `terms.unit`..."
    )
    # `old` and `new`, as in every other change the schema shows (FieldChange, BaselineChange).
    old: str | None = strawberry.field(description="Its value before, as text; null if empty.")
    new: str | None = strawberry.field(description="Its value after, as `old`.")


@strawberry.type(
    description="A suspect link: an item that rested on an earlier revision of an expectation"
    " that was refined, open until someone who may decide reviews it."
)
class SuspectFlag:
    id: strawberry.ID
    item_id: strawberry.ID = strawberry.field(
        description="The item flagged: the expectation's id for a commitment, the contract's"
        " for its ranking, the item's own otherwise (what reviewSuspect takes)."
    )
    kind: SuspectKind
    contract_id: strawberry.ID
    expectation_id: strawberry.ID = strawberry.field(description="The expectation refined.")
    from_revision: int = strawberry.field(description="The revision the item rested on.")
    revision: int = strawberry.field(description="The revision that replaced it.")
    changes: list[TermChange] = strawberry.field(description="The diff that raised the flag.")
    refined_by: str
    reviewers: list[Role] = strawberry.field(description="The roles that may review the item.")
    suspected_at: datetime
    open: bool = strawberry.field(description="True until the item is reviewed.")
    outcome: ReviewOutcome | None
    reason: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None


def _flag(row: asyncpg.Record) -> SuspectFlag:
    # jsonb arrives as text, as types.jsonb reads it (types shows flags: no import of it here).
    raw = row["changes"]
    changes: list[dict[str, Any]] = orjson.loads(raw) if isinstance(raw, str) else raw
    return SuspectFlag(
        id=strawberry.ID(row["flag_id"]),
        item_id=strawberry.ID(row["item_id"]),
        kind=SuspectKind(row["kind"]),
        contract_id=strawberry.ID(row["contract_id"]),
        expectation_id=strawberry.ID(row["expectation_id"]),
        from_revision=row["from_revision"],
        revision=row["revision"],
        changes=[TermChange(field=c["field"], old=c["before"], new=c["after"]) for c in changes],
        refined_by=row["refined_by"],
        reviewers=[Role(r) for r in row["reviewers"]],
        suspected_at=row["suspected_at"],
        open=row["outcome"] is None,
        outcome=None if row["outcome"] is None else ReviewOutcome(row["outcome"]),
        reason=row["reason"],
        reviewed_by=row["reviewed_by"],
        reviewed_at=row["reviewed_at"],
    )


async def flags_of_contract(
    pool: asyncpg.Pool, contract_id: str, *, only_open: bool
) -> list[SuspectFlag]:
    rows = await pool.fetch(
        "SELECT * FROM suspect_links WHERE contract_id = $1 AND (NOT $2 OR outcome IS NULL)"
        " ORDER BY suspected_at, flag_id",
        contract_id, only_open,
    )  # fmt: skip
    return [_flag(r) for r in rows]


async def flags_of_item(pool: asyncpg.Pool, item_id: str) -> list[SuspectFlag]:
    rows = await pool.fetch(
        "SELECT * FROM suspect_links WHERE item_id = $1 ORDER BY suspected_at, flag_id", item_id
    )
    return [_flag(r) for r in rows]


async def open_flags_of(pool: asyncpg.Pool, keys: Sequence[str]) -> list[list[SuspectFlag]]:
    """The flags still open on each item, oldest first."""
    rows = await pool.fetch(
        "SELECT * FROM suspect_links WHERE item_id = ANY($1::text[]) AND outcome IS NULL"
        " ORDER BY suspected_at, flag_id",
        list(keys),
    )
    found: dict[str, list[SuspectFlag]] = {key: [] for key in keys}
    for row in rows:
        found[row["item_id"]].append(_flag(row))
    return [found[key] for key in keys]


@strawberry.type(
    description="Whether an item rests on an expectation's earlier terms: suspect while a flag"
    " on it is open, until someone who may decide it reviews it (reviewSuspect)."
)
class SuspectStatus:
    open: bool = strawberry.field(description="True while a flag on the item is still open.")
    flags: list[SuspectFlag] = strawberry.field(
        description="Its open flags, oldest first, each with the diff that raised it."
    )


OPEN_FLAGS = (
    " Its open flags carry the diffs that raised them; null in an answer as of a past instant."
)
SUSPECT = "Whether it is suspect: an expectation it rests on was refined since." + OPEN_FLAGS


async def suspect_status(info: Info[GatewayContext, None], item_id: str) -> SuspectStatus | None:
    """The item's open flags, read with every other item's of the answer in one query."""
    try:
        loading = load(info, open_flags_of, item_id)
        flags = loading if isinstance(loading, list) else await loading
    except LookupError:  # an answer as of a past instant: flags are shown only as they are now
        return None
    return SuspectStatus(open=bool(flags), flags=flags)


@strawberry.type
class SuspectQueries:
    @strawberry.field(
        description="The contract's suspect links, oldest first, each with the diff that raised"
        " it: only the open ones unless `open` is false."
    )
    async def suspects(
        self, info: Info[GatewayContext, None], contract_id: strawberry.ID, open: bool = True
    ) -> list[SuspectFlag]:
        ctx = info.context
        contract = id_argument(contract_id, "contractId")
        await role_on(ctx, contract)
        return await flags_of_contract(ctx.pool, contract, only_open=open)

    @strawberry.field(
        description="Every suspect flag ever raised on one item (an expectation's commitment,"
        " an obligation, a risk, a baseline, a contract's ranking), open or reviewed."
    )
    async def suspect_flags(
        self, info: Info[GatewayContext, None], item_id: strawberry.ID
    ) -> list[SuspectFlag]:
        ctx = info.context
        item = id_argument(item_id, "itemId")
        if not await sees(ctx, "item_id", item):
            return []
        return await flags_of_item(ctx.pool, item)


@strawberry.experimental.pydantic.input(model=suspects.ReviewSuspect, all_fields=True)
class ReviewSuspectInput:
    item_id: strawberry.ID


@strawberry.type
class SuspectItem:
    item_id: strawberry.ID
    flags: list[SuspectFlag] = strawberry.field(description="The item's flags, as now reviewed.")
    suspect: bool = strawberry.field(description="True while a flag on the item is still open.")
    version: int = strawberry.field(
        description="The version of the last flag the review cleared (each flag is a record of"
        " its own), not the item's."
    )
    consistent: bool = strawberry.field(
        description="False if the read model had not yet caught up."
    )


SuspectResult = Annotated[SuspectItem | Refusals, strawberry.union("SuspectResult")]


async def suspect_reviewed(ctx: GatewayContext, done: Done) -> SuspectItem:
    flags = await flags_of_item(ctx.pool, done.key)
    return SuspectItem(
        item_id=strawberry.ID(done.key),
        flags=flags,
        suspect=any(f.open for f in flags),
        version=done.version,
        consistent=done.consistent,
    )


@strawberry.type
class SuspectMutations:
    @strawberry.mutation(description=suspects.REVIEW_SUSPECT.description)
    async def review_suspect(
        self, info: Info[GatewayContext, None], input: ReviewSuspectInput
    ) -> SuspectResult:
        return await run(info, suspects.REVIEW_SUSPECT, input, suspect_reviewed, shows="item_id")
