"""The queries: contracts, expectations through time, gaps, prioritizations, the audit trail."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Sequence
from contextlib import suppress
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import FieldNode
from strawberry.types import Info

from services.gateway import reads, time_travel
from services.gateway.access import actor_of, role_on, sees
from services.gateway.baselines import Baseline, baselines_by_contract
from services.gateway.context import GatewayContext
from services.gateway.gap_analysis import GapEntry, gap_analyses
from services.gateway.health import ContractHealth, health_of, health_rows_of
from services.gateway.ids import id_argument, instant, text_argument, utc
from services.gateway.loading import Batch, Loaded, load
from services.gateway.pagination import (
    Connection,
    Edge,
    decode_cursor,
    encode_cursor,
    page_size,
)
from services.gateway.projections import audit
from services.gateway.protection import Refused
from services.gateway.raid import Raid, raid_rows_of
from services.gateway.types import (
    AuditEntry,
    AuditorNomination,
    Expectation,
    ExpectationVersion,
    Lesson,
    Obligation,
    Participant,
    Prioritization,
    Question,
    Risk,
    diff,
    jsonb,
    relay_id,
)

T = TypeVar("T")


def _ctx(info: Info[GatewayContext, None]) -> GatewayContext:
    return info.context


def _plain_fields(nodes: Sequence[FieldNode]) -> list[FieldNode]:
    """The fields selected directly below `nodes`, leaving out fragments and directives."""
    return [
        s
        for node in nodes
        if node.selection_set
        for s in node.selection_set.selections
        if isinstance(s, FieldNode) and not s.directives
    ]


def selected_relations(info: Info[GatewayContext, None], *path: str) -> set[str]:
    """The contract relations the query selects by name (aliased or not) on the field being
    resolved, or on the field at `path` below it (`edges`, `node` for a connection); one
    under a fragment or a directive is left to load as it comes."""
    nodes = list(info._raw_info.field_nodes)  # graphql-core's: strawberry's copy is deep
    for name in path:
        nodes = [f for f in _plain_fields(nodes) if f.name.value == name]
    return {f.name.value for f in _plain_fields(nodes) if f.name.value in RELATIONS}


async def prefetch(ctx: GatewayContext, contract_ids: Sequence[str], relations: set[str]) -> None:
    """Load now the relations the query selects on these contracts: their relation fields
    then answer at once, where each would cost graphql-core a coroutine and a task to wait
    for its DataLoader. A single relation is read straight into its DataLoader's cache;
    several go through the DataLoaders together. The same queries run (one per relation,
    whatever the number of contracts); a load that fails is left to its field, which reads
    again and reports the error at its own path."""
    if not contract_ids:
        return
    loaders = [(RELATIONS[name], ctx.loader(RELATIONS[name])) for name in relations]
    missing = [
        (batch, loader)
        for batch, loader in loaders
        if not all(loader.cache_map.get(key) for key in contract_ids)
    ]
    if len(missing) == 1:
        [(batch, loader)] = missing
        with suppress(Exception):
            loaded = await batch(ctx.pool, list(contract_ids))
            loader.prime_many(dict(zip(contract_ids, loaded, strict=True)))
        return
    for pending in [loader.load_many(contract_ids) for _, loader in missing]:
        with suppress(Exception):
            await pending


@strawberry.type
class Contract:
    id: strawberry.ID
    title: str
    client_organisation: str
    provider_organisation: str
    starts_on: date
    version: int
    created_at: datetime
    # The instant it was rebuilt as of (contract(id, asOf:)); None for the present.
    as_of: strawberry.Private[datetime | None] = None

    @strawberry.field(description="Its Relay global id, for `node(id:)`.")
    def global_id(self) -> strawberry.ID:
        return relay_id("Contract", self.id)

    @strawberry.field(graphql_type=list[Participant])
    def participants(self, info: Info[GatewayContext, None]) -> Loaded[Participant]:
        return load(info, reads.participants_of, str(self.id))

    @strawberry.field(
        graphql_type=list[AuditorNomination],
        description="Auditors one side named and the other side has yet to confirm, as named.",
    )
    def auditor_nominations(self, info: Info[GatewayContext, None]) -> Loaded[AuditorNomination]:
        return load(info, reads.auditor_nominations_of, str(self.id))

    @strawberry.field(graphql_type=list[Expectation])
    def expectations(self, info: Info[GatewayContext, None]) -> Loaded[Expectation]:
        """In corporate priority order, then as proposed."""
        return load(info, reads.expectations_of, str(self.id))

    @strawberry.field(graphql_type=list[Obligation])
    def obligations(self, info: Info[GatewayContext, None]) -> Loaded[Obligation]:
        return load(info, reads.obligations_of, str(self.id))

    @strawberry.field(graphql_type=list[Risk])
    def risks(self, info: Info[GatewayContext, None]) -> Loaded[Risk]:
        return load(info, reads.risks_of, str(self.id))

    @strawberry.field(graphql_type=list[Prioritization])
    def prioritizations(self, info: Info[GatewayContext, None]) -> Loaded[Prioritization]:
        return load(info, reads.prioritizations_of, str(self.id))

    @strawberry.field(
        graphql_type=list[GapEntry],
        description="Delivery against each open expectation's terms, in corporate priority order.",
    )
    def gap_analysis(self, info: Info[GatewayContext, None]) -> Loaded[GapEntry]:
        return load(info, gap_analyses, str(self.id))

    @strawberry.field(
        graphql_type=list[Question],
        description="The probing questions asked, as asked, with their answers.",
    )
    def questions(self, info: Info[GatewayContext, None]) -> Loaded[Question]:
        return load(info, reads.questions_of, str(self.id))

    @strawberry.field(
        graphql_type=list[Lesson],
        description="The lessons learned, as learned, with the preventive work planned from each.",
    )
    def lessons(self, info: Info[GatewayContext, None]) -> Loaded[Lesson]:
        return load(info, reads.lessons_of, str(self.id))

    @strawberry.field(
        graphql_type=list[Baseline],
        description="The baselines of its agreed set, oldest first, with their signatures.",
    )
    def baselines(self, info: Info[GatewayContext, None]) -> Loaded[Baseline]:
        return load(info, baselines_by_contract, str(self.id))

    @strawberry.field(
        description="Its health: a score from 0 to 100 and each part beside it (what it counts"
        " and the points it cost), now or as of the contract's `asOf`."
    )
    async def health(self, info: Info[GatewayContext, None]) -> ContractHealth:
        return await health_of(info, str(self.id), self.as_of)

    @strawberry.field(description="Its RAID view: risks, assumptions, issues, dependencies.")
    def raid(self) -> Raid:
        return Raid(contract_id=str(self.id))


RELATIONS: dict[str, Batch[Any]] = {
    "participants": reads.participants_of,
    "auditorNominations": reads.auditor_nominations_of,
    "expectations": reads.expectations_of,
    "obligations": reads.obligations_of,
    "risks": reads.risks_of,
    "prioritizations": reads.prioritizations_of,
    "gapAnalysis": gap_analyses,
    "questions": reads.questions_of,
    "lessons": reads.lessons_of,
    "baselines": baselines_by_contract,
    "health": health_rows_of,
    "raid": raid_rows_of,
}

# What a Contract is built from.
CONTRACT_COLUMNS = (
    "c.contract_id, c.title, c.client_organisation, c.provider_organisation, c.starts_on,"
    " c.version, c.created_at"
)


def contract_of(row: Any) -> Contract:
    return Contract(
        id=strawberry.ID(row["contract_id"]),
        title=row["title"],
        client_organisation=row["client_organisation"],
        provider_organisation=row["provider_organisation"],
        starts_on=row["starts_on"],
        version=row["version"],
        created_at=row["created_at"],
    )


async def load_contract(ctx: GatewayContext, contract_id: str) -> Contract | None:
    row = await ctx.pool.fetchrow("SELECT * FROM contracts WHERE contract_id = $1", contract_id)
    return None if row is None else contract_of(row)


async def visible_contract(
    ctx: GatewayContext, key: str, *, with_people: bool = False
) -> Contract | None:
    """The contract, if the caller has a role on it: one query reads it with its people.
    `with_people`: they also answer its `participants` relation, without a query of their own."""
    actor = actor_of(ctx)
    rows = await ctx.pool.fetch(
        f"SELECT {CONTRACT_COLUMNS}, {reads.PARTICIPANT_COLUMNS} FROM participants p"
        " LEFT JOIN contracts c USING (contract_id)"
        f" WHERE p.contract_id = $1 ORDER BY {reads.PARTICIPANT_ORDER}",
        key,
    )
    if not any(r["person_id"] == actor.subject and r["active"] for r in rows):
        raise Refused("FORBIDDEN", f"{actor.subject} has no role on contract {key}")
    if with_people:
        ctx.loader(reads.participants_of).prime(key, [reads.participant(r) for r in rows])
    return None if rows[0]["title"] is None else contract_of(rows[0])


async def contract_as_of(
    info: Info[GatewayContext, None], key: str, as_of: datetime
) -> Contract | None:
    """The contract as it stood at `as_of`, rebuilt from its events up to then (see
    time_travel.py), every field below it too; to anyone without a role on it now, refused."""
    ctx = _ctx(info)
    await visible_contract(ctx, key)
    snapshot = await time_travel.rebuilt(ctx.pool, key, as_of, list(RELATIONS.values()))
    time_travel.scope(info, snapshot)
    if snapshot.contract is None:
        return None
    return dataclasses.replace(contract_of(snapshot.contract), as_of=as_of)


async def visible_expectation(
    ctx: GatewayContext, key: str, *, version: int | None = None
) -> Expectation | None:
    """The expectation, if the caller has a role on its contract: to anyone else it is as
    absent as one that does not exist (null), so an id reveals nothing."""
    found = await reads.expectation(ctx.pool, key, version=version)
    if found is None or not await sees(ctx, "contract_id", found.contract_id):
        return None
    return found


async def expectation_as_of(
    info: Info[GatewayContext, None], key: str, as_of: datetime, version: int | None
) -> Expectation | None:
    """The expectation as it stood at `as_of` (at `version`, if it had reached it then),
    read from its contract's rebuild as `contract(asOf:)` reads it; null to an outsider."""
    ctx = _ctx(info)
    contract = await ctx.pool.fetchval(
        "SELECT contract_id FROM expectations WHERE expectation_id = $1", key
    )
    if contract is None or not await sees(ctx, "contract_id", contract):
        return None

    async def read(source: Any) -> Expectation | None:
        return await reads.expectation(source, key, version=version)

    snapshot = await time_travel.rebuilt(ctx.pool, contract, as_of, (), read=read)
    time_travel.scope(info, snapshot)
    found: Expectation | None = snapshot.found
    return found


async def visible_prioritization(ctx: GatewayContext, key: str) -> Prioritization | None:
    """The prioritization, if the caller has a role on its contract; null otherwise."""
    found = await reads.prioritization(ctx.pool, key)
    if found is None or not await sees(ctx, "contract_id", found.contract_id):
        return None
    return found


Node = Annotated[Contract | Expectation | Prioritization, strawberry.union("Node")]


@strawberry.type
class Query:
    @strawberry.field(
        description="A contract the caller has a role on, now or as it stood at `asOf`: then"
        " every field below it is as of that instant, rebuilt from the events recorded up to"
        " it (null if the contract was not opened yet)."
    )
    async def contract(
        self, info: Info[GatewayContext, None], id: strawberry.ID, as_of: datetime | None = None
    ) -> Contract | None:
        ctx, relations = _ctx(info), selected_relations(info)
        key = id_argument(id)
        if as_of is not None:
            return await contract_as_of(info, key, utc(as_of))
        found = await visible_contract(ctx, key, with_people="participants" in relations)
        if found is not None:
            await prefetch(ctx, [str(found.id)], relations)
        return found

    @strawberry.field(description="The caller's contracts, newest last; keyset-paginated.")
    async def contracts(
        self,
        info: Info[GatewayContext, None],
        first: int = 20,
        after: str | None = None,
        client_organisation: str | None = None,
    ) -> Connection[Contract]:
        ctx = _ctx(info)
        actor = actor_of(ctx)
        limit = page_size(first)
        since, key = decode_cursor(after) if after else (None, "")
        if client_organisation is not None:
            client_organisation = text_argument(client_organisation, "clientOrganisation")
        rows = await ctx.pool.fetch(
            "SELECT c.* FROM contracts c JOIN participants p USING (contract_id)"
            " WHERE p.person_id = $1 AND p.active"
            " AND ($2::text IS NULL OR c.client_organisation = $2)"
            " AND ($3::timestamptz IS NULL OR (c.created_at, c.contract_id) > ($3, $4))"
            " ORDER BY c.created_at, c.contract_id LIMIT $5",
            actor.subject, client_organisation, since, key, limit + 1,
        )  # fmt: skip
        edges = [
            Edge(cursor=encode_cursor(r["created_at"], r["contract_id"]), node=contract_of(r))
            for r in rows[:limit]
        ]
        relations = selected_relations(info, "edges", "node")
        await prefetch(ctx, [str(edge.node.id) for edge in edges], relations)
        return Connection.page(edges, more=len(rows) > limit, after=after)

    @strawberry.field(description="A contract, expectation or prioritization by its `globalId`.")
    async def node(self, info: Info[GatewayContext, None], id: strawberry.ID) -> Node | None:
        try:
            kind, key = base64.urlsafe_b64decode(str(id).encode()).decode().split(":", 1)
        except ValueError:
            raise Refused("BAD_USER_INPUT", f"{id!r} is not a global id") from None
        ctx, key = _ctx(info), id_argument(key)
        if kind == "Contract":
            return await visible_contract(ctx, key)
        if kind == "Expectation":
            return await visible_expectation(ctx, key)
        if kind == "Prioritization":
            return await visible_prioritization(ctx, key)
        raise Refused("BAD_USER_INPUT", f"no objects of kind {kind!r}")

    @strawberry.field(
        description="The expectation now, at a version, or as it stood at a moment (rebuilt"
        " from its contract's events up to then, as `contract(asOf:)` is)."
    )
    async def expectation(
        self,
        info: Info[GatewayContext, None],
        id: strawberry.ID,
        as_of: datetime | None = None,
        version: int | None = None,
    ) -> Expectation | None:
        key = id_argument(id)
        if as_of is not None:
            return await expectation_as_of(info, key, utc(as_of), version)
        return await visible_expectation(_ctx(info), key, version=version)

    @strawberry.field(description="Every version, each with its diff against the one before.")
    async def expectation_history(
        self, info: Info[GatewayContext, None], id: strawberry.ID
    ) -> list[ExpectationVersion]:
        ctx = _ctx(info)
        rows = await ctx.pool.fetch(
            "SELECT * FROM expectation_versions WHERE expectation_id = $1 ORDER BY version",
            id_argument(id),
        )
        if not rows or not await sees(ctx, "contract_id", rows[0]["contract_id"]):
            return []  # to an outsider, as to anyone asking for an id that is not there
        history: list[ExpectationVersion] = []
        before: dict[str, Any] | None = None
        for r in rows:
            state = jsonb(r["state"])
            history.append(
                ExpectationVersion(
                    version=r["version"],
                    revision=r["revision"],
                    event_type=r["event_type"],
                    changed_at=r["changed_at"],
                    changed_by=r["changed_by"],
                    actor_role=r["actor_role"],
                    reason=r["reason"],
                    changes=diff(before, state),
                    state=Expectation.of(state, r["version"], None),
                )
            )
            before = state
        return history

    @strawberry.field(
        description="Delivery against each open expectation's terms, in corporate priority order:"
        " the latest measured period of each, weighted, the top two flagged when they fall short."
    )
    async def gap_analysis(
        self, info: Info[GatewayContext, None], contract_id: strawberry.ID
    ) -> list[GapEntry]:
        contract = id_argument(contract_id, "contractId")
        await role_on(_ctx(info), contract)
        return (await gap_analyses(_ctx(info).pool, [contract]))[0]

    @strawberry.field
    async def prioritization(
        self, info: Info[GatewayContext, None], id: strawberry.ID
    ) -> Prioritization | None:
        return await visible_prioritization(_ctx(info), id_argument(id))

    @strawberry.field(description="Every event of a contract, filterable, keyset-paginated.")
    async def audit_trail(
        self,
        info: Info[GatewayContext, None],
        contract_id: strawberry.ID,
        event_type: str | None = None,
        actor_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[AuditEntry]:
        ctx, contract = _ctx(info), id_argument(contract_id, "contractId")
        await role_on(ctx, contract)
        limit = page_size(first)
        at, key = decode_cursor(after) if after else (None, "")
        if event_type is not None:
            event_type = text_argument(event_type, "eventType")
        if actor_id is not None:
            actor_id = text_argument(actor_id, "actorId")
        rows = await ctx.pool.fetch(
            "SELECT * FROM audit_log WHERE contract_id = $1"
            " AND ($2::text IS NULL OR event_type = $2 OR event_type LIKE '%.' || $2 || '.v%')"
            " AND ($3::text IS NULL OR actor_id = $3)"
            " AND ($4::timestamptz IS NULL OR occurred_at >= $4)"
            " AND ($5::timestamptz IS NULL OR occurred_at < $5)"
            # After the cursor's event in the log's one order (audit.ORDER_BY), found by its id;
            # a cursor naming no event we hold (made by hand, or its event forgotten) pages on
            # from its instant.
            " AND ($6::timestamptz IS NULL OR CASE WHEN EXISTS"
            " (SELECT 1 FROM audit_log a WHERE a.event_id = $7)"
            " THEN (occurred_at, source, log_position, event_id) >"
            " (SELECT a.occurred_at, a.source, a.log_position, a.event_id FROM audit_log a"
            " WHERE a.event_id = $7)"
            " ELSE occurred_at > $6 END)"
            f" ORDER BY {audit.ORDER_BY} LIMIT $8",
            contract, event_type, actor_id, instant(since), instant(until), at, key, limit + 1,
        )  # fmt: skip
        edges = [
            Edge(
                cursor=encode_cursor(r["occurred_at"], r["event_id"]),
                node=AuditEntry(
                    event_id=r["event_id"],
                    event_type=r["event_type"],
                    occurred_at=r["occurred_at"],
                    actor_id=r["actor_id"],
                    actor_role=r["actor_role"],
                    subject=r["subject"],
                    sequence=r["sequence"],
                    correlation_id=r["correlation_id"],
                    causation_id=r["causation_id"],
                    data=jsonb(r["data"]),
                ),
            )
            for r in rows[:limit]
        ]
        return Connection.page(edges, more=len(rows) > limit, after=after)
