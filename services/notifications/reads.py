"""Queries on the service's own tables: a contract's snapshot, policies, preferences, addresses."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import TypeAlias
from uuid import UUID

import asyncpg

from services.notifications.policies import Policy
from services.notifications.preferences import Cadence, Channel, Preference
from services.notifications.snapshot import ContractSnapshot, ObligationState, Person
from shared.database import Connection
from shared.pending_writes import Statements

# A connection inside a transaction (the view's handler, or a batch's pending writes, which
# run what they hold before a read) or the pool (the API, the workers).
Queryable: TypeAlias = "Connection | Statements | asyncpg.Pool"


async def snapshot(
    conn: Queryable, contract_id: UUID | str, *, expectations: Collection[str] | None = None
) -> ContractSnapshot:
    """What the view knows of the contract now: the planner's input.

    `expectations`: only these of its expectations (those the events planned for name),
    rather than every one the contract ever had."""
    if expectations is None:
        found = await conn.fetch(
            "SELECT expectation_id::text AS id, text, proposers FROM view_expectations"
            " WHERE contract_id = $1",
            contract_id,
        )
    else:
        found = await conn.fetch(
            "SELECT expectation_id::text AS id, text, proposers FROM view_expectations"
            " WHERE contract_id = $1 AND expectation_id = ANY($2::uuid[])",
            contract_id,
            sorted(expectations),
        )
    return await _snapshot(conn, contract_id, found)


async def _snapshot(
    conn: Queryable, contract_id: UUID | str, expectations: list[asyncpg.Record]
) -> ContractSnapshot:
    people = await conn.fetch(
        "SELECT person_id, name, side, role, email FROM view_participants"
        " WHERE contract_id = $1 AND active",
        contract_id,
    )
    obligations = await conn.fetch(
        "SELECT obligation_id::text AS id, what, needed_from, due_on, proposed_by, status"
        " FROM view_obligations WHERE contract_id = $1",
        contract_id,
    )
    ranking = await conn.fetchval(
        "SELECT ranking FROM view_rankings WHERE contract_id = $1", contract_id
    )
    return ContractSnapshot(
        contract_id=UUID(str(contract_id)),
        people={r["person_id"]: Person(**dict(r)) for r in people},
        proposers={r["id"]: tuple(r["proposers"]) for r in expectations},
        expectation_texts={r["id"]: r["text"] for r in expectations},
        obligations={
            r["id"]: ObligationState(
                obligation_id=r["id"],
                what=r["what"],
                needed_from=r["needed_from"],
                due_on=r["due_on"],
                proposed_by=r["proposed_by"],
                status=r["status"],
            )
            for r in obligations
        },
        ranking=tuple(ranking or ()),
    )


async def ranking_in_force(
    conn: Queryable, contract_id: UUID | str, moment: datetime
) -> tuple[str, ...] | None:
    """The corporate ranking in force at `moment` (empty: none was), once a ranking published
    after it has arrived: a contract's rankings arrive in the order they were published, so
    every earlier one is known then. None while none published after it is known: the latest
    known one may yet be followed by one published before `moment`."""
    row = await conn.fetchrow(
        "SELECT EXISTS (SELECT 1 FROM view_ranking_history WHERE contract_id = $1"
        " AND published_at > $2) AS superseded, (SELECT ranking FROM view_ranking_history"
        " WHERE contract_id = $1 AND published_at <= $2 ORDER BY published_at DESC LIMIT 1)"
        " AS ranking",
        contract_id,
        moment,
    )
    if row is None or not row["superseded"]:
        return None
    return tuple(row["ranking"] or ())


async def changed_policies(conn: Queryable, contract_id: UUID | str) -> dict[str, Policy]:
    """The contract's policies that someone changed, by trigger (the others are the defaults)."""
    rows = await conn.fetch(
        "SELECT trigger, policy FROM policies WHERE contract_id = $1", contract_id
    )
    return {r["trigger"]: Policy.model_validate(json.loads(r["policy"])) for r in rows}


async def changed_policies_of(
    conn: Queryable, contract_ids: Collection[str]
) -> dict[str, dict[str, Policy]]:
    """changed_policies of several contracts at once, by contract (none changed: absent)."""
    rows = await conn.fetch(
        "SELECT contract_id::text AS contract, trigger, policy FROM policies"
        " WHERE contract_id = ANY($1::uuid[])",
        sorted(contract_ids),
    )
    found: dict[str, dict[str, Policy]] = {}
    for r in rows:
        found.setdefault(r["contract"], {})[r["trigger"]] = Policy.model_validate(
            json.loads(r["policy"])
        )
    return found


async def preferences(conn: Queryable, contract_id: UUID | str) -> dict[str, Preference]:
    """Each person's chosen channel on the contract (absent: the default applies)."""
    rows = await conn.fetch(
        "SELECT person_id, channel, cadence, email, webhook_url FROM preferences"
        " WHERE contract_id = $1",
        contract_id,
    )
    return {r["person_id"]: _preference(r) for r in rows}


async def preferences_of(
    conn: Queryable, contract_ids: Collection[str]
) -> dict[str, dict[str, Preference]]:
    """preferences of several contracts at once, by contract (none chosen: absent)."""
    rows = await conn.fetch(
        "SELECT contract_id::text AS contract, person_id, channel, cadence, email, webhook_url"
        " FROM preferences WHERE contract_id = ANY($1::uuid[])",
        sorted(contract_ids),
    )
    found: dict[str, dict[str, Preference]] = {}
    for r in rows:
        found.setdefault(r["contract"], {})[r["person_id"]] = _preference(r)
    return found


def _preference(row: asyncpg.Record) -> Preference:
    return Preference(
        channel=Channel(row["channel"]),
        cadence=Cadence(row["cadence"]),
        email=row["email"],
        webhook_url=row["webhook_url"],
    )


async def role_of(conn: Queryable, contract_id: UUID | str, person_id: str) -> str | None:
    """The person's role on the contract now, or None when they are not on it."""
    role: str | None = await conn.fetchval(
        "SELECT role FROM view_participants WHERE contract_id = $1 AND person_id = $2 AND active",
        contract_id,
        person_id,
    )
    return role


async def address_of(conn: Queryable, contract_id: UUID | str, person_id: str, channel: str) -> str:
    """Where the channel reaches the person now ("" when nowhere): read at each attempt, so a
    corrected address is used by the next retry."""
    row = await conn.fetchrow(
        "SELECT p.email AS known_email, pr.email AS own_email, pr.webhook_url"
        " FROM (SELECT $1::uuid AS contract_id, $2::text AS person_id) AS who"
        " LEFT JOIN view_participants p USING (contract_id, person_id)"
        " LEFT JOIN preferences pr USING (contract_id, person_id)",
        contract_id,
        person_id,
    )
    if row is None:
        return ""
    if channel == Channel.EMAIL:
        return str(row["own_email"] or row["known_email"] or "")
    if channel == Channel.WEBHOOK:
        return str(row["webhook_url"] or "")
    return "in-app"


async def record_of(conn: Queryable, notice_id: UUID | str) -> UUID | None:
    """The NoticeSet that records the notice; None when it is its own record (queued before
    v2) or not in the tables yet."""
    record: UUID | None = await conn.fetchval(
        "SELECT record_id FROM notices WHERE notice_id = $1", notice_id
    )
    return record
