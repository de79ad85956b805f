"""Signed baselines in GraphQL: the commands that propose, sign and revoke them (declared in
shared/commands/baselines.py), the list of a contract's baselines with their signatures, and
the field-level comparison of two baselines, for auditors above all."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, cast

import asyncpg
import orjson
import strawberry
import strawberry.experimental.pydantic
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from services.gateway import suspects
from services.gateway.access import role_on, sees
from services.gateway.commands import Done, run
from services.gateway.context import GatewayContext
from services.gateway.ids import id_argument
from services.gateway.outcomes import Refusals
from services.gateway.types import jsonb
from shared.commands import baselines
from shared.commands.baselines import Meaning
from shared.commands.elicitation import Role

# The lists of a baseline's content whose entries are named by an id: a path names the entry
# by it (`expectations.<id>.terms.target`), so an entry added or removed moves no other path.
KEYED_LISTS = {
    "participants": "person_id",
    "expectations": "expectation_id",
    "obligations": "obligation_id",
    "risks": "risk_id",
}


@strawberry.enum(
    description=("Where a baseline stands: awaiting required signatures, complete, or revoked.")
)
class BaselineStatus(StrEnum):
    PROPOSED = "proposed"
    COMPLETE = "complete"
    REVOKED = "revoked"


@strawberry.enum(description=("How a field differs from one baseline to the other."))
class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@strawberry.type(
    description="A signature (21 CFR Part 11 11.50, 11.70): the signer, their printed name,"
    " the instant, its meaning and the content hash it is bound to."
)
class Signature:
    signer: str
    printed_name: str
    role: Role
    meaning: Meaning
    signed_at: datetime
    authenticated_at: datetime = strawberry.field(
        description="When the signer last authenticated (their token's issue time)."
    )
    content_hash: str


@strawberry.type(description="A read-only baseline of a contract's agreed set.")
class Baseline:
    id: strawberry.ID
    contract_id: strawberry.ID
    title: str
    status: BaselineStatus
    complete: bool = strawberry.field(
        description="True once someone in every required role has signed."
    )
    content_hash: str = strawberry.field(
        description="SHA-256 (hex) of the content's canonical JSON: keys sorted, no whitespace."
    )
    content: JSON = strawberry.field(
        description="What was frozen: contract, participants, committed expectations with their"
        " terms, accepted obligations, acknowledged risks, the published ranking."
    )
    required_roles: list[Role]
    unsigned_roles: list[Role] = strawberry.field(
        description="Required roles nobody has signed for yet."
    )
    proposed_by: str
    proposed_at: datetime
    revoked_by: str | None
    revocation_reason: str | None
    revoked_at: datetime | None
    version: int
    signatures: list[Signature]

    @strawberry.field(
        description="Whether it is suspect: an expectation it holds was refined since."
        + suspects.OPEN_FLAGS
    )
    async def suspect(self, info: Info[GatewayContext, None]) -> suspects.SuspectStatus | None:
        return await suspects.suspect_status(info, str(self.id))


@strawberry.type(description="One field that differs between two baselines.")
class BaselineChange:
    path: str = strawberry.field(
        description="The field, in the schema's names joined by dots; an entry of participants,"
        " expectations, obligations or risks is named by its id."
    )
    change: ChangeKind
    old: str | None = strawberry.field(
        description="Its value in the first baseline, as written (lists as JSON); null if absent."
    )
    new: str | None = strawberry.field(description="Its value in the second baseline, as `old`.")


@strawberry.type(description="What changed from one baseline to another.")
class BaselineComparison:
    a: Baseline
    b: Baseline
    identical: bool = strawberry.field(description="True when both content hashes are equal.")
    changes: list[BaselineChange]


# Reads


def _leaves(value: Any, path: str, into: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            below = f"{path}.{to_camel_case(key)}" if path else to_camel_case(key)
            if key in KEYED_LISTS and isinstance(inner, list):
                for entry in inner:
                    _leaves(entry, f"{below}.{entry[KEYED_LISTS[key]]}", into)
            else:
                _leaves(inner, below, into)
    else:
        into[path] = value


def leaves(content: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of a baseline's content by its path."""
    found: dict[str, Any] = {}
    _leaves(content, "", found)
    return found


def _written(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[BaselineChange]:
    """The fields added, removed or changed from content `a` to content `b`, by path."""
    old, new = leaves(a), leaves(b)

    def shadowed(path: str, other: Mapping[str, Any]) -> bool:
        # A null where the other side has fields below (no ranking, then one) is not a field.
        return any(p.startswith(f"{path}.") for p in other)

    old = {p: v for p, v in old.items() if not (v is None and shadowed(p, new))}
    new = {p: v for p, v in new.items() if not (v is None and shadowed(p, old))}
    changes = []
    for path in sorted(old.keys() | new.keys()):
        if path not in new:
            kind = ChangeKind.REMOVED
        elif path not in old:
            kind = ChangeKind.ADDED
        elif old[path] != new[path]:
            kind = ChangeKind.CHANGED
        else:
            continue
        changes.append(
            BaselineChange(
                path=path, change=kind, old=_written(old.get(path)), new=_written(new.get(path))
            )
        )
    return changes


def _baseline(row: asyncpg.Record, signed: Sequence[asyncpg.Record]) -> Baseline:
    signatures = [
        Signature(
            signer=s["signer"],
            printed_name=s["printed_name"],
            role=Role(s["role"]),
            meaning=Meaning(s["meaning"]),
            signed_at=s["signed_at"],
            authenticated_at=s["authenticated_at"],
            content_hash=s["content_hash"],
        )
        for s in signed
    ]
    required = [Role(role) for role in row["required_roles"]]
    signed_roles = {s.role for s in signatures}
    if row["revoked_at"] is not None:
        status = BaselineStatus.REVOKED
    else:
        status = BaselineStatus.COMPLETE if row["complete"] else BaselineStatus.PROPOSED
    return Baseline(
        id=strawberry.ID(row["baseline_id"]),
        contract_id=strawberry.ID(row["contract_id"]),
        title=row["title"],
        status=status,
        complete=row["complete"],
        content_hash=row["content_hash"],
        content=jsonb(row["content"]),
        required_roles=required,
        unsigned_roles=[role for role in required if role not in signed_roles],
        proposed_by=row["proposed_by"],
        proposed_at=row["proposed_at"],
        revoked_by=row["revoked_by"],
        revocation_reason=row["revocation_reason"],
        revoked_at=row["revoked_at"],
        version=row["version"],
        signatures=signatures,
    )


async def _with_signatures(pool: asyncpg.Pool, rows: Iterable[asyncpg.Record]) -> list[Baseline]:
    found = list(rows)
    signed = await pool.fetch(
        "SELECT * FROM baseline_signatures WHERE baseline_id = ANY($1::text[])"
        " ORDER BY signed_at, signer",
        [r["baseline_id"] for r in found],
    )
    by_baseline: dict[str, list[asyncpg.Record]] = {}
    for s in signed:
        by_baseline.setdefault(s["baseline_id"], []).append(s)
    return [_baseline(r, by_baseline.get(r["baseline_id"], [])) for r in found]


async def baselines_of(pool: asyncpg.Pool, contract_id: str) -> list[Baseline]:
    """The contract's baselines, oldest first."""
    rows = await pool.fetch(
        "SELECT * FROM baselines WHERE contract_id = $1 ORDER BY proposed_at, baseline_id",
        contract_id,
    )
    return await _with_signatures(pool, rows)


async def baselines_by_contract(pool: asyncpg.Pool, ids: Sequence[str]) -> list[list[Baseline]]:
    """Each contract's baselines, oldest first, as a DataLoader takes them (two queries)."""
    rows = await pool.fetch(
        "SELECT * FROM baselines WHERE contract_id = ANY($1::text[])"
        " ORDER BY proposed_at, baseline_id",
        list(ids),
    )
    by_contract: dict[str, list[Baseline]] = {contract_id: [] for contract_id in ids}
    for found in await _with_signatures(pool, rows):
        by_contract[str(found.contract_id)].append(found)
    return [by_contract[contract_id] for contract_id in ids]


async def visible_baseline(ctx: GatewayContext, baseline_id: str) -> Baseline | None:
    """The baseline, if the caller has a role on its contract; None otherwise, as for an id
    that names none."""
    if not await sees(ctx, "baseline_id", baseline_id):
        return None
    rows = await ctx.pool.fetch("SELECT * FROM baselines WHERE baseline_id = $1", baseline_id)
    found = await _with_signatures(ctx.pool, rows)
    return found[0] if found else None


@strawberry.type
class BaselineQueries:
    @strawberry.field(
        description="The contract's baselines, oldest first, with their signatures and whether"
        " each is complete."
    )
    async def baselines(
        self, info: Info[GatewayContext, None], contract_id: strawberry.ID
    ) -> list[Baseline]:
        ctx = info.context
        contract = id_argument(contract_id, "contractId")
        await role_on(ctx, contract)
        return await baselines_of(ctx.pool, contract)

    @strawberry.field(description="One baseline; null if there is none the caller may see.")
    async def baseline(
        self, info: Info[GatewayContext, None], id: strawberry.ID
    ) -> Baseline | None:
        return await visible_baseline(info.context, id_argument(id))

    @strawberry.field(
        description="The field-level difference from baseline `a` to baseline `b`: each field"
        " added, removed or changed, with its path and its old and new values; null unless the"
        " caller may see both."
    )
    async def compare_baselines(
        self, info: Info[GatewayContext, None], a: strawberry.ID, b: strawberry.ID
    ) -> BaselineComparison | None:
        ctx = info.context
        first = await visible_baseline(ctx, id_argument(a, "a"))
        second = await visible_baseline(ctx, id_argument(b, "b"))
        if first is None or second is None:
            return None
        return BaselineComparison(
            a=first,
            b=second,
            identical=first.content_hash == second.content_hash,
            changes=compare(
                cast(dict[str, Any], first.content), cast(dict[str, Any], second.content)
            ),
        )


# Mutations


@strawberry.experimental.pydantic.input(model=baselines.ProposeBaseline, all_fields=True)
class ProposeBaselineInput:
    contract_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=baselines.SignBaseline, all_fields=True)
class SignBaselineInput:
    baseline_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=baselines.RevokeBaseline, all_fields=True)
class RevokeBaselineInput:
    baseline_id: strawberry.ID


@strawberry.type
class BaselineChanged:
    baseline: Baseline | None
    version: int
    consistent: bool = strawberry.field(
        description="False if the read model had not yet caught up."
    )
    created: strawberry.ID | None = strawberry.field(
        default=None, description="The id of the baseline the mutation proposed; null otherwise."
    )


BaselineResult = Annotated[BaselineChanged | Refusals, strawberry.union("BaselineResult")]


async def baseline_changed(ctx: GatewayContext, done: Done) -> BaselineChanged:
    found = await visible_baseline(ctx, done.key)
    return BaselineChanged(
        baseline=found, version=done.version, consistent=done.consistent, created=done.created
    )


@strawberry.type
class BaselineMutations:
    @strawberry.mutation(description=baselines.PROPOSE_BASELINE.description)
    async def propose_baseline(
        self, info: Info[GatewayContext, None], input: ProposeBaselineInput
    ) -> BaselineResult:
        return await run(info, baselines.PROPOSE_BASELINE, input, baseline_changed)

    @strawberry.mutation(description=baselines.SIGN_BASELINE.description)
    async def sign_baseline(
        self, info: Info[GatewayContext, None], input: SignBaselineInput
    ) -> BaselineResult:
        return await run(info, baselines.SIGN_BASELINE, input, baseline_changed)

    @strawberry.mutation(description=baselines.REVOKE_BASELINE.description)
    async def revoke_baseline(
        self, info: Info[GatewayContext, None], input: RevokeBaselineInput
    ) -> BaselineResult:
        return await run(info, baselines.REVOKE_BASELINE, input, baseline_changed)
