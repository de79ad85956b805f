"""Suspect links as the events carry them: one row per flag, open until its review (the rule
of what becomes suspect, and who may review, lives in the elicitation service)."""

from __future__ import annotations

from services.gateway.projections.routing import Handler, by_event
from services.gateway.projections.values import document
from shared.envelope import Envelope
from shared.pending_writes import Statements

SERVICE = "elicitation"

SCHEMA = """
CREATE TABLE IF NOT EXISTS suspect_links (
    flag_id text PRIMARY KEY,
    contract_id text NOT NULL,
    item_id text NOT NULL,
    kind text NOT NULL,
    expectation_id text NOT NULL,
    from_revision integer NOT NULL,
    revision integer NOT NULL,
    changes jsonb NOT NULL,
    refined_by text NOT NULL,
    reviewers text[] NOT NULL,
    suspected_at timestamptz NOT NULL,
    outcome text,
    reason text,
    reviewed_by text,
    reviewed_at timestamptz,
    version integer NOT NULL
);
CREATE INDEX IF NOT EXISTS suspect_links_of_contract ON suspect_links (contract_id, suspected_at);
CREATE INDEX IF NOT EXISTS suspect_links_of_item ON suspect_links (item_id);
"""

TABLES = ("suspect_links",)


async def _suspected(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO suspect_links (flag_id, contract_id, item_id, kind, expectation_id,"
        " from_revision, revision, changes, refined_by, reviewers, suspected_at, version)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12)"
        " ON CONFLICT (flag_id) DO NOTHING",
        e.subject, d["contract_id"], d["item_id"], d["kind"], d["expectation_id"],
        d["from_revision"], d["revision"], document(d["changes"]), d["refined_by"],
        list(d["reviewers"]), e.time, e.sequence,
    )  # fmt: skip


async def _reviewed(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "UPDATE suspect_links SET outcome = $2, reason = $3, reviewed_by = $4, reviewed_at = $5,"
        " version = greatest(version, $6) WHERE flag_id = $1",
        e.subject, d["outcome"], d["reason"], d["reviewed_by"], e.time, e.sequence,
    )  # fmt: skip


_HANDLERS: dict[str, Handler] = {"LinkSuspected": _suspected, "SuspectReviewed": _reviewed}

# Apply a suspect link's event; any other event is ignored.
apply = by_event(SERVICE, _HANDLERS)
