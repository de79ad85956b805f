"""The audit log: every event of every service, with its whole envelope.

Each event keeps its place in its service's log (`log_position`, the notification id the
service's signed checkpoints cover, published as `ce_accordposition`): the same whether the
event came from Kafka or from the service's store, live or replayed. The log's one order is
ORDER_BY (the recorded instant, then the service, then the place in its log), which a replay
reproduces exactly. `position` only counts arrivals in this read model (the cursor of live
updates): a replay numbers it afresh.
"""

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
    "offset" bigint NOT NULL,
    log_position bigint NOT NULL DEFAULT 0
);
-- A read model made before the column: its rows read 0 (not known) until a replay fills them.
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS log_position bigint NOT NULL DEFAULT 0;
-- A contract's trail in the log's one order (ORDER_BY); also what reads a contract's events
-- up to an instant. It made audit_log_by_contract (contract_id, occurred_at) and, in
-- services/gateway/projections/schema.py, audit_log_keyset (contract_id, occurred_at,
-- event_id: an older order) redundant: both dropped, each cost every write an index.
CREATE INDEX IF NOT EXISTS audit_log_in_order
    ON audit_log (contract_id, occurred_at, source, log_position, event_id);
DROP INDEX IF EXISTS audit_log_by_contract;
DROP INDEX IF EXISTS audit_log_keyset;
"""

# The audit log's one order, the same live and after any replay: the instant the service
# recorded the event, then the service (`source`), then the event's place in that service's
# log; the event id settles events recorded before their place was published (log_position 0).
ORDER_BY = "occurred_at, source, log_position, event_id"

# One row per event and nothing else: a batch may insert its rows in any order.
INSERT = (
    "INSERT INTO audit_log (event_id, event_type, source, subject, contract_id, sequence,"
    " occurred_at, actor_id, actor_role, correlation_id, causation_id, data, topic,"
    ' partition, "offset", log_position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,'
    " $11, $12::jsonb, $13, $14, $15, $16) ON CONFLICT (event_id) DO NOTHING"
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
        envelope.position,
    )
