"""Prioritization sessions, each voter's current ballot, the published rankings with their
agreement measures, and each expectation's corporate priority in its contract's latest one.

A session's events share its stream (ce_subject is the session id). Ranking and elicitation
are different topics, so their events interleave differently on every read: the priority is
kept in its own table and copied to `expectations` from both sides (here when a ranking is
published, there when an expectation appears), which gives the same rows in any order.
"""

from __future__ import annotations

import json

from services.gateway.projections.routing import Handler, by_event
from services.gateway.projections.values import moment
from shared.envelope import Envelope
from shared.pending_writes import Statements

SERVICE = "ranking"


async def _opened(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO prioritizations (session_id, contract_id, expectations, voters, method,"
        " dots, closes_at, opened_by, status, version, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $10)"
        " ON CONFLICT (session_id) DO NOTHING",
        e.subject, d["contract_id"], d["expectations"], d["voters"], d["method"], d["dots"],
        moment(d["closes_at"]), d["opened_by"], e.sequence, e.time,
    )  # fmt: skip


async def _moved(conn: Statements, e: Envelope) -> None:
    await conn.execute(
        "UPDATE prioritizations SET version = $2, updated_at = $3 WHERE session_id = $1",
        e.subject, e.sequence, e.time,
    )  # fmt: skip


async def _vote_cast(conn: Statements, e: Envelope) -> None:
    d = e.data
    # A later ballot from the same voter replaces the earlier one.
    await conn.execute(
        "INSERT INTO ballots (session_id, voter, contract_id, ranking, dots, created_at)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6) ON CONFLICT (session_id, voter) DO UPDATE"
        " SET ranking = excluded.ranking, dots = excluded.dots, created_at = excluded.created_at",
        e.subject, d["voter"], d["contract_id"], d["ranking"],
        None if d["dots"] is None else json.dumps(d["dots"], sort_keys=True), e.time,
    )  # fmt: skip
    await _moved(conn, e)


async def _vote_withdrawn(conn: Statements, e: Envelope) -> None:
    await conn.execute(
        "DELETE FROM ballots WHERE session_id = $1 AND voter = $2", e.subject, e.data["voter"]
    )
    await _moved(conn, e)


async def _closed(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "UPDATE prioritizations SET status = 'closed', closed_by = $2, closed_at = $3,"
        " voted = $4, eligible = $5 WHERE session_id = $1",
        e.subject, d["closed_by"], e.time, d["voted"], d["eligible"],
    )  # fmt: skip
    await _moved(conn, e)


async def _published(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO rankings (session_id, contract_id, event_id, ranking, method, result,"
        " agreement, concordance, turnout_voted, turnout_eligible, advice, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10, $11::jsonb, $12)"
        " ON CONFLICT (session_id) DO NOTHING",
        e.subject, d["contract_id"], e.id, d["ranking"], d["method"],
        json.dumps(d["result"], sort_keys=True), json.dumps(d["agreement"], sort_keys=True),
        d["agreement"]["concordance"], d["turnout"]["voted"], d["turnout"]["eligible"],
        json.dumps(d["advice"], sort_keys=True), e.time,
    )  # fmt: skip
    await conn.execute(
        "UPDATE prioritizations SET status = 'published' WHERE session_id = $1", e.subject
    )
    await _moved(conn, e)
    await _reprioritize(conn, str(d["contract_id"]))


async def _reprioritize(conn: Statements, contract_id: str) -> None:
    """Corporate priorities from the contract's latest published ranking (by time, then id)."""
    await conn.execute("DELETE FROM corporate_priorities WHERE contract_id = $1", contract_id)
    await conn.execute(
        "INSERT INTO corporate_priorities (contract_id, expectation_id, position, ranked_count,"
        " session_id, published_at)"
        " SELECT r.contract_id, ranked.expectation_id, ranked.position, cardinality(r.ranking),"
        " r.session_id, r.created_at"
        " FROM (SELECT * FROM rankings WHERE contract_id = $1"
        "       ORDER BY created_at DESC, session_id DESC LIMIT 1) r,"
        " unnest(r.ranking) WITH ORDINALITY AS ranked(expectation_id, position)",
        contract_id,
    )
    await conn.execute(
        "UPDATE expectations e SET corporate_priority = p.position"
        " FROM expectations x LEFT JOIN corporate_priorities p"
        " ON p.contract_id = x.contract_id AND p.expectation_id = x.expectation_id"
        " WHERE x.contract_id = $1 AND e.expectation_id = x.expectation_id"
        " AND e.corporate_priority IS DISTINCT FROM p.position",
        contract_id,
    )


_HANDLERS: dict[str, Handler] = {
    "PrioritizationOpened": _opened,
    "VoteCast": _vote_cast,
    "VoteWithdrawn": _vote_withdrawn,
    "PrioritizationClosed": _closed,
    "CorporatePrioritiesPublished": _published,
}


# Apply a ranking event; any other event is ignored.
apply = by_event(SERVICE, _HANDLERS)
