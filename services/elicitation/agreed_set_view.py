"""Elicitation's own view of what a baseline freezes, kept from published events.

Which expectations, obligations and risks each contract has (from this service's own events:
a baseline loads only those aggregates, never every one of the store), and the corporate
ranking last published for it (from the ranking service's events: elicitation never imports
ranking nor reads its tables). The view also keeps how far into this service's own log it has
applied, so a proposal can wait until the view holds what was stored before it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from shared.envelope import Envelope
from shared.pending_writes import Statements
from shared.projection import Batching

TOPICS = ("accord.elicitation.v1", "accord.ranking.v1")

SCHEMA = """
CREATE TABLE IF NOT EXISTS view_agreed_items (
    item_id uuid PRIMARY KEY,
    contract_id uuid NOT NULL,
    -- expectation, obligation or risk
    kind text NOT NULL
);
CREATE INDEX IF NOT EXISTS view_agreed_items_contract ON view_agreed_items (contract_id);
CREATE TABLE IF NOT EXISTS view_published_rankings (
    contract_id uuid PRIMARY KEY,
    ranking jsonb NOT NULL,
    method text NOT NULL,
    published_at timestamptz NOT NULL,
    event_id text NOT NULL
);
CREATE TABLE IF NOT EXISTS view_agreed_position (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    position bigint NOT NULL
);
"""

ITEMS = {
    "ExpectationProposed": ("expectation", "expectation_id"),
    "ObligationProposed": ("obligation", "obligation_id"),
    "RiskDisclosed": ("risk", "risk_id"),
}


async def apply(conn: Statements, envelope: Envelope) -> None:
    """Keep the view; events it does not need only move its position."""
    spec = envelope.spec
    data = envelope.data
    if spec.service == "ranking":
        if spec.name == "CorporatePrioritiesPublished":
            await _published(conn, envelope)
        return
    if spec.name in ITEMS:
        kind, id_field = ITEMS[spec.name]
        await conn.execute(
            "INSERT INTO view_agreed_items VALUES ($1, $2, $3) ON CONFLICT (item_id) DO NOTHING",
            data[id_field], data["contract_id"], kind,
        )  # fmt: skip
    if envelope.position:
        # In any order: the greatest position applied.
        await conn.execute(
            "INSERT INTO view_agreed_position (one, position) VALUES (true, $1)"
            " ON CONFLICT (one) DO UPDATE"
            " SET position = greatest(view_agreed_position.position, excluded.position)",
            envelope.position,
        )


async def _published(conn: Statements, envelope: Envelope) -> None:
    data = envelope.data
    # The latest publication stands, whatever order two of them arrive in.
    await conn.execute(
        "INSERT INTO view_published_rankings VALUES ($1, $2::jsonb, $3, $4, $5)"
        " ON CONFLICT (contract_id) DO UPDATE SET ranking = excluded.ranking,"
        " method = excluded.method, published_at = excluded.published_at,"
        " event_id = excluded.event_id"
        " WHERE (view_published_rankings.published_at, view_published_rankings.event_id)"
        " < (excluded.published_at, excluded.event_id)",
        data["contract_id"], json.dumps(data["ranking"]), data["method"], envelope.time,
        envelope.id,
    )  # fmt: skip


def order_key(envelope: Envelope) -> str:
    """Each stream writes its own rows; a contract's rankings keep their contract's order."""
    if envelope.spec.service == "ranking":
        return f"contract:{envelope.key}"
    return f"stream:{envelope.subject}"


BATCHING = Batching(apply=apply, order_key=order_key)


@dataclass(frozen=True)
class Listed:
    """What the view holds for one contract: the ids a baseline loads, and the ranking."""

    expectations: list[UUID] = field(default_factory=list)
    obligations: list[UUID] = field(default_factory=list)
    risks: list[UUID] = field(default_factory=list)
    ranking: dict[str, Any] | None = None


async def listed(pool: asyncpg.Pool, contract_id: UUID) -> Listed:
    rows = await pool.fetch(
        "SELECT item_id, kind FROM view_agreed_items WHERE contract_id = $1 ORDER BY item_id",
        contract_id,
    )
    ids: dict[str, list[UUID]] = {"expectation": [], "obligation": [], "risk": []}
    for row in rows:
        ids[row["kind"]].append(row["item_id"])
    published = await pool.fetchrow(
        "SELECT ranking, method, published_at, event_id FROM view_published_rankings"
        " WHERE contract_id = $1",
        contract_id,
    )
    ranking = None
    if published is not None:
        ranking = {
            "ranking": json.loads(published["ranking"]),
            "method": published["method"],
            "published_at": published["published_at"],
            "event_id": published["event_id"],
        }
    return Listed(ids["expectation"], ids["obligation"], ids["risk"], ranking)


async def applied_position(pool: asyncpg.Pool) -> int:
    found: int | None = await pool.fetchval("SELECT position FROM view_agreed_position")
    return found or 0
