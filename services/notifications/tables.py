"""Every table the service keeps in its own schema, created before anything reads them.

view_*: its own view of the contracts, from elicitation's and ranking's events.
notices, reminders, policies, preferences: its own events, as the workers query them.
inbox: work the view asks of the application, done once each (see dispatcher.py).
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS view_participants (
    contract_id uuid NOT NULL,
    person_id text NOT NULL,
    name text NOT NULL,
    side text NOT NULL,
    role text NOT NULL,
    email text NOT NULL,
    phone text NOT NULL,
    -- kept after they leave, so notices queued before still know the address
    active boolean NOT NULL DEFAULT true,
    PRIMARY KEY (contract_id, person_id)
);
CREATE TABLE IF NOT EXISTS view_expectations (
    expectation_id uuid PRIMARY KEY,
    contract_id uuid NOT NULL,
    text text NOT NULL,
    proposers text[] NOT NULL
);
CREATE TABLE IF NOT EXISTS view_obligations (
    obligation_id uuid PRIMARY KEY,
    contract_id uuid NOT NULL,
    what text NOT NULL,
    needed_from text NOT NULL,
    due_on date NOT NULL,
    proposed_by text NOT NULL,
    -- proposed, accepted, declined, fulfilled or breached
    status text NOT NULL
);
CREATE TABLE IF NOT EXISTS view_risks (
    risk_id uuid PRIMARY KEY,
    contract_id uuid NOT NULL,
    title text NOT NULL,
    kind text NOT NULL,
    affected_expectations uuid[] NOT NULL
);
CREATE TABLE IF NOT EXISTS view_rankings (
    contract_id uuid PRIMARY KEY,
    ranking text[] NOT NULL,
    published_at timestamptz NOT NULL
);
-- Every corporate ranking and when it was published: a miss is planned by the one in force
-- when it happened, though one published after it may arrive first (ranking_in_force).
CREATE TABLE IF NOT EXISTS view_ranking_history (
    contract_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    ranking text[] NOT NULL,
    PRIMARY KEY (contract_id, published_at)
);
-- Missed targets of expectations no corporate ranking known yet ranks: a ranking published
-- before the miss may arrive after it (Kafka orders nothing across elicitation's and
-- ranking's topics). Planned when one arrives that ranks them; dropped once one published
-- after the miss arrives (see contract_view.release_held_misses).
CREATE TABLE IF NOT EXISTS view_held_misses (
    event_id text PRIMARY KEY,
    contract_id uuid NOT NULL,
    occurred_at timestamptz NOT NULL,
    data jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS view_held_misses_by_contract
    ON view_held_misses (contract_id, occurred_at);
-- The trace the miss was recorded in: its notices are queued and sent in it when released.
ALTER TABLE view_held_misses ADD COLUMN IF NOT EXISTS traceparent text NOT NULL DEFAULT '';

CREATE TABLE IF NOT EXISTS notices (
    notice_id uuid PRIMARY KEY,
    key text NOT NULL UNIQUE,
    contract_id uuid NOT NULL,
    source_event_id text NOT NULL,
    trigger text NOT NULL,
    person_id text NOT NULL,
    channel text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    data jsonb NOT NULL,
    urgent boolean NOT NULL,
    -- held for a digest until then
    not_before timestamptz,
    -- queued, retrying, delivered or dead_lettered
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_reason text NOT NULL DEFAULT '',
    address text NOT NULL DEFAULT '',
    digest_key text NOT NULL DEFAULT '',
    queued_at timestamptz NOT NULL,
    delivered_at timestamptz,
    acknowledged_at timestamptz,
    -- a worker is on it until then (not an event: only keeps two workers off one notice)
    claimed_until timestamptz
);
-- The aggregate that records it: its NoticeSet; null for a notice queued before v2, its own.
ALTER TABLE notices ADD COLUMN IF NOT EXISTS record_id uuid;
-- The trace its source event was stored in, which its send continues ('' for none).
ALTER TABLE notices ADD COLUMN IF NOT EXISTS traceparent text NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS notices_due ON notices (next_attempt_at)
    WHERE status IN ('queued', 'retrying');
-- The notices every attempt failed for, counted for /metrics without reading the others.
CREATE INDEX IF NOT EXISTS notices_dead_lettered ON notices (notice_id)
    WHERE status = 'dead_lettered';
-- A person's inbox and a contract's deliveries, each read a page at a time in its order.
CREATE INDEX IF NOT EXISTS notices_inbox
    ON notices (person_id, channel, status, queued_at, notice_id);
CREATE INDEX IF NOT EXISTS notices_by_contract ON notices (contract_id, queued_at, key);
DROP INDEX IF EXISTS notices_person;
DROP INDEX IF EXISTS notices_contract;

CREATE TABLE IF NOT EXISTS reminders (
    reminder_id uuid PRIMARY KEY,
    contract_id uuid NOT NULL,
    obligation_id uuid NOT NULL,
    kind text NOT NULL,
    sequence integer NOT NULL,
    due_at timestamptz NOT NULL,
    -- scheduled, fired or cancelled
    status text NOT NULL,
    reason text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS reminders_due ON reminders (due_at) WHERE status = 'scheduled';
-- The trace it was scheduled in (its obligation's proposal's), which its firing continues.
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS traceparent text NOT NULL DEFAULT '';

CREATE TABLE IF NOT EXISTS policies (
    contract_id uuid NOT NULL,
    trigger text NOT NULL,
    policy jsonb NOT NULL,
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (contract_id, trigger)
);
CREATE TABLE IF NOT EXISTS preferences (
    contract_id uuid NOT NULL,
    person_id text NOT NULL,
    channel text NOT NULL,
    cadence text NOT NULL,
    email text NOT NULL,
    webhook_url text NOT NULL,
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (contract_id, person_id)
);
CREATE TABLE IF NOT EXISTS ledger_position (
    ledger text PRIMARY KEY,
    position bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS inbox (
    seq bigserial PRIMARY KEY,
    kind text NOT NULL,
    payload jsonb NOT NULL,
    -- the published event that asked for it
    causation_id text NOT NULL,
    failed_reason text
);
"""
