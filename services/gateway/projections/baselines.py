"""Baselines of each contract with their signatures, as the events carry them (a signature says
itself whether it completed its baseline: the rule lives in the elicitation service)."""

from __future__ import annotations

from services.gateway.projections.routing import Handler, by_event
from services.gateway.projections.values import document, moment
from shared.envelope import Envelope
from shared.pending_writes import Statements

SERVICE = "elicitation"

SCHEMA = """
CREATE TABLE IF NOT EXISTS baselines (
    baseline_id text PRIMARY KEY,
    contract_id text NOT NULL,
    title text NOT NULL,
    content jsonb NOT NULL,
    content_hash text NOT NULL,
    required_roles text[] NOT NULL,
    proposed_by text NOT NULL,
    proposed_at timestamptz NOT NULL,
    complete boolean NOT NULL DEFAULT false,
    revoked_by text,
    revocation_reason text,
    revoked_at timestamptz,
    version integer NOT NULL
);
CREATE INDEX IF NOT EXISTS baselines_of_contract ON baselines (contract_id, proposed_at);
CREATE TABLE IF NOT EXISTS baseline_signatures (
    baseline_id text NOT NULL,
    signer text NOT NULL,
    contract_id text NOT NULL,
    printed_name text NOT NULL,
    role text NOT NULL,
    meaning text NOT NULL,
    signed_at timestamptz NOT NULL,
    authenticated_at timestamptz NOT NULL,
    content_hash text NOT NULL,
    PRIMARY KEY (baseline_id, signer)
);
"""

TABLES = ("baselines", "baseline_signatures")


async def _proposed(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO baselines (baseline_id, contract_id, title, content, content_hash,"
        " required_roles, proposed_by, proposed_at, version)"
        " VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9) ON CONFLICT (baseline_id) DO NOTHING",
        d["baseline_id"], d["contract_id"], d["title"], document(d["content"]),
        d["content_hash"], list(d["required_roles"]), d["proposed_by"], e.time, e.sequence,
    )  # fmt: skip


async def _signed(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO baseline_signatures (baseline_id, signer, contract_id, printed_name, role,"
        " meaning, signed_at, authenticated_at, content_hash)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        d["baseline_id"], d["signer"], d["contract_id"], d["printed_name"], d["role"],
        d["meaning"], moment(d["signed_at"]), moment(d["authenticated_at"]), d["content_hash"],
    )  # fmt: skip
    await conn.execute(
        "UPDATE baselines SET complete = complete OR $2, version = greatest(version, $3)"
        " WHERE baseline_id = $1",
        d["baseline_id"], d["complete"], e.sequence,
    )  # fmt: skip


async def _revoked(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "UPDATE baselines SET revoked_by = $2, revocation_reason = $3, revoked_at = $4,"
        " version = greatest(version, $5) WHERE baseline_id = $1",
        d["baseline_id"], d["revoked_by"], d["reason"], e.time, e.sequence,
    )  # fmt: skip


_HANDLERS: dict[str, Handler] = {
    "BaselineProposed": _proposed,
    "BaselineSigned": _signed,
    "BaselineRevoked": _revoked,
}

# Apply a baseline event; any other event is ignored.
apply = by_event(SERVICE, _HANDLERS)
