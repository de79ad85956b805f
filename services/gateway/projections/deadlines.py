"""Deadline warnings as the services raised them (both elicitation and ranking raise them, each
for its own dated promises), and each contract's deadline policy. Each warning only raises
what it says: the highest threshold passed, and whether the deadline was missed, so events
applied in any order, or twice, leave the same rows."""

from __future__ import annotations

from services.gateway.projections.values import moment
from shared.envelope import Envelope
from shared.pending_writes import Statements
from shared.schemas.registry import ContractSpec

SCHEMA = """
CREATE TABLE IF NOT EXISTS deadline_warnings (
    item_id text NOT NULL,
    -- a recovery step's number (its item is the gap); 0 for an item that has no steps
    step integer NOT NULL,
    kind text NOT NULL,
    contract_id text NOT NULL,
    owner text NOT NULL,
    starts_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    -- the highest threshold (percent of the time) warned of; NULL if only the deadline was
    threshold integer,
    missed boolean NOT NULL DEFAULT false,
    PRIMARY KEY (item_id, step, due_at)
);
CREATE TABLE IF NOT EXISTS deadline_policies (
    contract_id text PRIMARY KEY,
    thresholds integer[] NOT NULL,
    acknowledgement_window text NOT NULL,
    set_by text NOT NULL,
    set_at timestamptz NOT NULL,
    -- the policy's event's position in the contract's stream: a later one wins
    version integer NOT NULL
);
"""

TABLES = ("deadline_warnings", "deadline_policies")

_WARNINGS = ("DeadlineApproaching", "DeadlineMissed")


def handles(spec: ContractSpec) -> bool:
    return spec.name in _WARNINGS or (
        spec.service == "elicitation" and spec.name == "DeadlinePolicySet"
    )


async def apply(conn: Statements, e: Envelope) -> None:
    """Record a warning, or a contract's policy; any other event is ignored."""
    name, d = e.spec.name, e.data
    if name in _WARNINGS:
        missed = name == "DeadlineMissed"
        await conn.execute(
            "INSERT INTO deadline_warnings (item_id, step, kind, contract_id, owner, starts_at,"
            " due_at, threshold, missed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (item_id, step, due_at) DO UPDATE SET"
            " threshold = greatest(deadline_warnings.threshold, excluded.threshold),"
            " missed = deadline_warnings.missed OR excluded.missed",
            d["item_id"], d["step"] or 0, d["kind"], d["contract_id"], d["owner"],
            moment(d["starts_at"]), moment(d["due_at"]), d.get("threshold"), missed,
        )  # fmt: skip
    elif name == "DeadlinePolicySet" and e.spec.service == "elicitation":
        await conn.execute(
            "INSERT INTO deadline_policies VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (contract_id) DO UPDATE SET thresholds = excluded.thresholds,"
            " acknowledgement_window = excluded.acknowledgement_window,"
            " set_by = excluded.set_by, set_at = excluded.set_at, version = excluded.version"
            " WHERE deadline_policies.version < excluded.version",
            d["contract_id"], list(d["thresholds"]), d["acknowledgement_window"], d["set_by"],
            e.time, e.sequence,
        )  # fmt: skip
