"""The audit log: every event of every service, with its whole envelope, in arrival order."""

from __future__ import annotations

from services.gateway.projections.values import document
from shared.envelope import Envelope
from shared.pending_writes import Statements

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    position bigserial PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    event_type text NOT NULL,
    source text NOT NULL,
    subject text NOT NULL,
    contract_id text NOT NULL,
    sequence integer NOT NULL,
    occurred_at timestamptz NOT NULL,
    actor_id text NOT NULL,
    actor_role text NOT NULL,
    correlation_id text NOT NULL,
    causation_id text NOT NULL,
    data jsonb NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    "offset" bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_by_contract ON audit_log (contract_id, occurred_at);
"""


# One row per event and nothing else: a batch may insert its rows in any order.
INSERT = (
    "INSERT INTO audit_log (event_id, event_type, source, subject, contract_id, sequence,"
    " occurred_at, actor_id, actor_role, correlation_id, causation_id, data, topic,"
    ' partition, "offset") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,'
    " $12::jsonb, $13, $14, $15) ON CONFLICT (event_id) DO NOTHING"
)


async def record(conn: Statements, envelope: Envelope) -> None:
    await conn.execute(
        INSERT,
        envelope.id,
        envelope.type,
        envelope.source,
        envelope.subject,
        envelope.key,
        envelope.sequence,
        envelope.time,
        envelope.actor_id,
        envelope.actor_role,
        envelope.correlation_id,
        envelope.causation_id,
        document(envelope.data),
        envelope.topic,
        envelope.partition,
        envelope.offset,
    )
