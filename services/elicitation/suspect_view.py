"""Elicitation's own view of what may become suspect, kept from its own events: which items
name each expectation (obligations that depend on it, risks that name it, baselines that hold
it), and which flags are still open on each item. A refinement loads only those aggregates and
a review only those flags; the rule itself is suspect_rule.py's, on the aggregates as stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from shared.envelope import Envelope
from shared.pending_writes import Statements
from shared.projection import Batching, in_arrival_order

TOPICS = ("accord.elicitation.v1",)

SCHEMA = """
CREATE TABLE IF NOT EXISTS view_suspect_candidates (
    expectation_id uuid NOT NULL,
    item_id uuid NOT NULL,
    -- obligation, risk or baseline
    kind text NOT NULL,
    PRIMARY KEY (expectation_id, item_id)
);
CREATE TABLE IF NOT EXISTS view_open_flags (
    flag_id uuid PRIMARY KEY,
    item_id uuid NOT NULL
);
CREATE INDEX IF NOT EXISTS view_open_flags_item ON view_open_flags (item_id);
CREATE TABLE IF NOT EXISTS view_suspect_position (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    position bigint NOT NULL
);
"""


def _named(name: str, data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(expectation, item, kind) for each expectation the event's item rests on."""
    if name == "ObligationProposed":
        return [(e, data["obligation_id"], "obligation") for e in data["depends_on"]]
    if name == "RiskDisclosed":
        return [(e, data["risk_id"], "risk") for e in data["affected_expectations"]]
    if name == "BaselineProposed":
        held = data["content"].get("expectations") or []
        return [(e["expectation_id"], data["baseline_id"], "baseline") for e in held]
    return []


async def apply(conn: Statements, envelope: Envelope) -> None:
    """Keep the view; events it does not need only move its position."""
    name, data = envelope.spec.name, envelope.data
    for expectation, item, kind in _named(name, data):
        await conn.execute(
            "INSERT INTO view_suspect_candidates VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            UUID(str(expectation)), UUID(str(item)), kind,
        )  # fmt: skip
    if name == "LinkSuspected":
        await conn.execute(
            "INSERT INTO view_open_flags VALUES ($1, $2) ON CONFLICT DO NOTHING",
            UUID(envelope.subject), UUID(str(data["item_id"])),
        )  # fmt: skip
    elif name == "SuspectReviewed":
        await conn.execute("DELETE FROM view_open_flags WHERE flag_id = $1", UUID(envelope.subject))
    if envelope.position:
        await conn.execute(
            "INSERT INTO view_suspect_position (one, position) VALUES (true, $1)"
            " ON CONFLICT (one) DO UPDATE"
            " SET position = greatest(view_suspect_position.position, excluded.position)",
            envelope.position,
        )


BATCHING = Batching(apply, in_arrival_order)


@dataclass(frozen=True)
class Candidates:
    """What may rest on one expectation: the ids a refinement loads, and the ranking."""

    obligations: list[UUID] = field(default_factory=list)
    risks: list[UUID] = field(default_factory=list)
    baselines: list[UUID] = field(default_factory=list)
    ranking: dict[str, Any] | None = None


async def candidates(pool: asyncpg.Pool, expectation_id: UUID) -> Candidates:
    rows = await pool.fetch(
        "SELECT item_id, kind FROM view_suspect_candidates WHERE expectation_id = $1"
        " ORDER BY item_id",
        expectation_id,
    )
    ids: dict[str, list[UUID]] = {"obligation": [], "risk": [], "baseline": []}
    for row in rows:
        ids[row["kind"]].append(row["item_id"])
    # The published ranking, as the agreed set's view keeps it (elicitation never reads ranking).
    ranked = await pool.fetchval(
        "SELECT r.ranking::text FROM view_published_rankings r"
        " JOIN view_agreed_items i ON i.contract_id = r.contract_id WHERE i.item_id = $1",
        expectation_id,
    )
    ranking = None if ranked is None else {"ranking": _json_list(ranked)}
    return Candidates(ids["obligation"], ids["risk"], ids["baseline"], ranking)


def _json_list(text: str) -> list[str]:
    found = json.loads(text)
    return [str(e) for e in found] if isinstance(found, list) else []


async def open_flags(pool: asyncpg.Pool, item_id: UUID) -> list[UUID]:
    """The flags still open on an item, in a fixed order."""
    rows = await pool.fetch(
        "SELECT flag_id FROM view_open_flags WHERE item_id = $1 ORDER BY flag_id", item_id
    )
    return [row["flag_id"] for row in rows]


async def applied_position(pool: asyncpg.Pool) -> int:
    found: int | None = await pool.fetchval("SELECT position FROM view_suspect_position")
    return found or 0
