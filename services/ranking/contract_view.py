"""The ranking service's own view of each contract, kept from elicitation's published events.

It learns who the client decision makers are, which expectations are measurable, and the
provider's advice, without importing the elicitation service or reading its tables.
"""

from __future__ import annotations

import json

import asyncpg

from shared.envelope import Envelope
from shared.pending_writes import Statements
from shared.projection import Batching

TOPICS = ("accord.elicitation.v1",)

SCHEMA = """
CREATE TABLE IF NOT EXISTS view_participants (
    contract_id uuid NOT NULL,
    person_id text NOT NULL,
    role text NOT NULL,
    PRIMARY KEY (contract_id, person_id)
);
CREATE TABLE IF NOT EXISTS view_expectations (
    contract_id uuid NOT NULL,
    expectation_id uuid PRIMARY KEY,
    text text NOT NULL,
    measurable boolean NOT NULL,
    -- proposed, withdrawn or merged: only open, measurable expectations go on a ballot
    status text NOT NULL
);
CREATE TABLE IF NOT EXISTS view_advice (
    expectation_id uuid NOT NULL,
    position bigserial PRIMARY KEY,
    advice jsonb NOT NULL
);
"""

DECISION_MAKER = "client_decision_maker"


async def apply(conn: Statements, envelope: Envelope) -> None:
    """Keep the view; events this view does not need are ignored."""
    name = envelope.spec.name
    data = envelope.data
    if name == "ParticipantJoined":
        await conn.execute(
            "INSERT INTO view_participants VALUES ($1, $2, $3)"
            " ON CONFLICT (contract_id, person_id) DO UPDATE SET role = excluded.role",
            data["contract_id"], data["person_id"], data["role"],
        )  # fmt: skip
    elif name == "ParticipantLeft":
        await conn.execute(
            "DELETE FROM view_participants WHERE contract_id = $1 AND person_id = $2",
            data["contract_id"], data["person_id"],
        )  # fmt: skip
    elif name == "ExpectationProposed":
        await conn.execute(
            "INSERT INTO view_expectations VALUES ($1, $2, $3, false, 'proposed')"
            " ON CONFLICT (expectation_id) DO NOTHING",
            data["contract_id"], data["expectation_id"], data["text"],
        )  # fmt: skip
    elif name == "ExpectationRefined":
        await conn.execute(
            "UPDATE view_expectations SET text = $2, measurable = $3 WHERE expectation_id = $1",
            data["expectation_id"], data["text"], data["measurable"],
        )  # fmt: skip
    elif name == "ExpectationWithdrawn":
        await _set_status(conn, data["expectation_id"], "withdrawn")
    elif name == "ExpectationsMerged":
        await _set_status(conn, data["merged_expectation_id"], "merged")
    elif name == "ProviderAdviceGiven":
        await conn.execute(
            "INSERT INTO view_advice (expectation_id, advice) VALUES ($1, $2::jsonb)",
            data["expectation_id"], json.dumps(data),
        )  # fmt: skip


async def _set_status(conn: Statements, expectation_id: str, status: str) -> None:
    await conn.execute(
        "UPDATE view_expectations SET status = $2 WHERE expectation_id = $1", expectation_id, status
    )


def order_key(envelope: Envelope) -> str:
    """A contract's events keep their order in a batch: they write its people, expectations
    and advice (advice in the order given); other contracts' rows are other rows."""
    return f"contract:{envelope.key}"


# The same view a whole batch at a time (see shared/pending_writes.py).
BATCHING = Batching(apply=apply, order_key=order_key)


async def ballot(pool: asyncpg.Pool, contract_id: str) -> tuple[list[str], list[str]]:
    """The contract's open, measurable expectations and its client decision makers, now."""
    expectations = await pool.fetch(
        "SELECT expectation_id::text AS id FROM view_expectations"
        " WHERE contract_id = $1 AND measurable AND status = 'proposed' ORDER BY 1",
        contract_id,
    )
    voters = await pool.fetch(
        "SELECT person_id FROM view_participants WHERE contract_id = $1 AND role = $2 ORDER BY 1",
        contract_id,
        DECISION_MAKER,
    )
    return [r["id"] for r in expectations], [r["person_id"] for r in voters]


async def advice(pool: asyncpg.Pool, expectation_ids: list[str]) -> dict[str, list[str]]:
    """The provider's advice on each expectation, in the order it was given: shown, not counted."""
    rows = await pool.fetch(
        "SELECT expectation_id::text AS id, advice FROM view_advice"
        " WHERE expectation_id = ANY($1::uuid[]) ORDER BY position",
        expectation_ids,
    )
    given: dict[str, list[str]] = {e: [] for e in expectation_ids}
    for row in rows:
        detail = json.loads(row["advice"])
        parts = [detail.get("importance"), detail.get("feasibility"), detail.get("advice")]
        given[row["id"]].append(" / ".join(str(p) for p in parts if p))
    return given


async def role_of(pool: asyncpg.Pool, contract_id: str, person_id: str) -> str | None:
    """The person's role on the contract, or None when they are not on it."""
    role: str | None = await pool.fetchval(
        "SELECT role FROM view_participants WHERE contract_id = $1 AND person_id = $2",
        contract_id,
        person_id,
    )
    return role
