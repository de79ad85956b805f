"""The read models' tables, in the gateway's own schema, with the indexes its queries use.

Every row is derived from envelopes only (ids and data, and `envelope.time` for moments), so
a rebuild from the same events gives the same rows. Each table has a `created_at` and an id,
indexed with its parent, for keyset pagination on (created_at, id).
"""

from __future__ import annotations

from services.gateway.projections import assumptions, audit, baselines, deadlines, suspects
from shared.database import Connection

# The schema the projector writes and the gateway reads.
SCHEMA_NAME = "readmodel"

CONTRACTS = """
CREATE TABLE IF NOT EXISTS contracts (
    contract_id text PRIMARY KEY,
    title text NOT NULL,
    client_organisation text NOT NULL,
    provider_organisation text NOT NULL,
    starts_on date NOT NULL,
    opened_by text NOT NULL,
    -- the contract stream's version and time after its latest event
    version integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS contracts_keyset ON contracts (created_at, contract_id);

-- An auditor one side named, until the other side confirms them (then a participant).
CREATE TABLE IF NOT EXISTS auditor_nominations (
    contract_id text NOT NULL,
    person_id text NOT NULL,
    name text NOT NULL,
    side text NOT NULL,
    nominated_by text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (contract_id, person_id)
);
-- Who could confirm when it was made; empty for nominations made before it was carried.
ALTER TABLE auditor_nominations ADD COLUMN IF NOT EXISTS confirmers text[] NOT NULL DEFAULT '{}';

CREATE TABLE IF NOT EXISTS participants (
    contract_id text NOT NULL,
    person_id text NOT NULL,
    name text NOT NULL,
    side text NOT NULL,
    role text NOT NULL,
    email text NOT NULL,
    phone text NOT NULL,
    added_by text NOT NULL,
    -- false once they left; a later join makes them active again
    active boolean NOT NULL,
    left_at timestamptz,
    left_reason text,
    removed_by text,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (contract_id, person_id)
);
CREATE INDEX IF NOT EXISTS participants_keyset ON participants (contract_id, created_at, person_id);
-- "which contracts may this person see": the gateway's authorization query
CREATE INDEX IF NOT EXISTS participants_by_person ON participants (person_id, contract_id);

CREATE TABLE IF NOT EXISTS questions (
    question_id text PRIMARY KEY,
    contract_id text NOT NULL,
    asked_of text NOT NULL,
    business_area text NOT NULL,
    text text NOT NULL,
    asked_by text NOT NULL,
    answer text,
    answered_by text,
    recorded_by text,
    answered_at timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_keyset ON questions (contract_id, created_at, question_id);
-- Its own record's version (null for a question recorded on its contract's stream).
ALTER TABLE questions ADD COLUMN IF NOT EXISTS version integer;
"""

EXPECTATIONS = """
CREATE TABLE IF NOT EXISTS expectations (
    expectation_id text PRIMARY KEY,
    contract_id text NOT NULL,
    -- the expectation stream's version after its latest event (every event is a version)
    version integer NOT NULL,
    -- the wording-and-terms revision (refinements, and targets revised by recovery plans)
    revision integer NOT NULL,
    text text NOT NULL,
    business_area text NOT NULL,
    why_it_matters text NOT NULL,
    from_answers text[] NOT NULL,
    -- the measurable terms of the current revision; all null until the first refinement
    metric text,
    comparison text,
    target numeric,
    target_upper numeric,
    unit text,
    deadline date,
    recurrence text,
    measurement_method text,
    measured_by text,
    measurable boolean NOT NULL,
    missing_for_measurable text[],
    status text NOT NULL,
    decided_revision integer,
    commitment jsonb,
    decline jsonb,
    withdrawal jsonb,
    -- every piece of provider advice, oldest first; the latest's importance and feasibility
    advice jsonb NOT NULL,
    importance text,
    feasibility text,
    proposed_by text NOT NULL,
    proposers text[] NOT NULL,
    merged_into text,
    merged_from text[] NOT NULL,
    -- position in the contract's latest published corporate ranking (from ranking's events)
    corporate_priority integer,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS expectations_keyset
    ON expectations (contract_id, created_at, expectation_id);
CREATE INDEX IF NOT EXISTS expectations_by_priority
    ON expectations (contract_id, corporate_priority);
-- "which expectations came from this answer": a question's read
CREATE INDEX IF NOT EXISTS expectations_by_answer ON expectations USING gin (from_answers);

CREATE TABLE IF NOT EXISTS expectation_versions (
    expectation_id text NOT NULL,
    version integer NOT NULL,
    contract_id text NOT NULL,
    event_id text NOT NULL UNIQUE,
    event_type text NOT NULL,
    revision integer NOT NULL,
    changed_at timestamptz NOT NULL,
    -- the person the event names as acting, and the envelope's actor
    changed_by text NOT NULL,
    actor_id text NOT NULL,
    actor_role text NOT NULL,
    reason text NOT NULL,
    -- the whole state after this version: time travel reads one row, a diff reads two
    state jsonb NOT NULL,
    PRIMARY KEY (expectation_id, version)
);
CREATE INDEX IF NOT EXISTS expectation_versions_as_of
    ON expectation_versions (expectation_id, changed_at, version);
CREATE INDEX IF NOT EXISTS expectation_versions_by_contract
    ON expectation_versions (contract_id, changed_at);
"""

OBLIGATIONS = """
CREATE TABLE IF NOT EXISTS obligations (
    obligation_id text PRIMARY KEY,
    contract_id text NOT NULL,
    what text NOT NULL,
    needed_from text NOT NULL,
    due_on date NOT NULL,
    depends_on text[] NOT NULL,
    proposed_by text NOT NULL,
    status text NOT NULL,
    decided_by text,
    decided_at timestamptz,
    decline_reason text,
    fulfilment_note text,
    fulfilled_by text,
    fulfilled_at timestamptz,
    breach_what_happened text,
    breach_impact text,
    breached_by text,
    breached_at timestamptz,
    version integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS obligations_keyset
    ON obligations (contract_id, created_at, obligation_id);
CREATE INDEX IF NOT EXISTS obligations_by_expectation ON obligations USING gin (depends_on);
"""

RISKS = """
CREATE TABLE IF NOT EXISTS risks (
    risk_id text PRIMARY KEY,
    contract_id text NOT NULL,
    kind text NOT NULL,
    title text NOT NULL,
    description text NOT NULL,
    likelihood integer NOT NULL,
    impact integer NOT NULL,
    -- how loudly to show it, 1 to 25
    exposure integer GENERATED ALWAYS AS (likelihood * impact) STORED,
    affected_expectations text[] NOT NULL,
    prepare_for text NOT NULL,
    disclosed_by text NOT NULL,
    -- a disclosure counts only once a client decision maker acknowledged it
    acknowledged boolean NOT NULL,
    first_acknowledged_at timestamptz,
    status text NOT NULL,
    resolution text,
    resolved_by text,
    resolved_at timestamptz,
    version integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS risks_keyset ON risks (contract_id, created_at, risk_id);
CREATE INDEX IF NOT EXISTS risks_by_expectation ON risks USING gin (affected_expectations);

CREATE TABLE IF NOT EXISTS risk_acknowledgements (
    risk_id text NOT NULL,
    acknowledged_by text NOT NULL,
    contract_id text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (risk_id, acknowledged_by)
);

CREATE TABLE IF NOT EXISTS remedial_actions (
    -- the event's id: stable across rebuilds (derived from the risk's id and version)
    action_id text PRIMARY KEY,
    risk_id text NOT NULL,
    contract_id text NOT NULL,
    action text NOT NULL,
    taken_by text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS remedial_actions_keyset
    ON remedial_actions (risk_id, created_at, action_id);

CREATE TABLE IF NOT EXISTS lessons (
    lesson_id text PRIMARY KEY,
    contract_id text NOT NULL,
    lesson text NOT NULL,
    risk_ids text[] NOT NULL,
    expectation_ids text[] NOT NULL,
    learned_by text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS lessons_keyset ON lessons (contract_id, created_at, lesson_id);
-- Its record's version: one more with each preventive action planned from it.
ALTER TABLE lessons ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1;
CREATE INDEX IF NOT EXISTS lessons_by_risk ON lessons USING gin (risk_ids);
CREATE INDEX IF NOT EXISTS lessons_by_expectation ON lessons USING gin (expectation_ids);

CREATE TABLE IF NOT EXISTS preventive_actions (
    action_id text PRIMARY KEY,
    lesson_id text NOT NULL,
    contract_id text NOT NULL,
    action text NOT NULL,
    owner text NOT NULL,
    due_on date NOT NULL,
    planned_by text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS preventive_actions_keyset
    ON preventive_actions (lesson_id, created_at, action_id);
CREATE INDEX IF NOT EXISTS preventive_actions_by_contract
    ON preventive_actions (contract_id, due_on);
"""

DELIVERY = """
CREATE TABLE IF NOT EXISTS measurements (
    measurement_id text PRIMARY KEY,
    contract_id text NOT NULL,
    expectation_id text NOT NULL,
    -- the revision whose terms judged it, and those terms: target against actual
    revision integer NOT NULL,
    comparison text,
    target numeric,
    target_upper numeric,
    period_start date NOT NULL,
    period_end date NOT NULL,
    value numeric NOT NULL,
    unit text NOT NULL,
    source text NOT NULL,
    met boolean NOT NULL,
    shortfall numeric NOT NULL,
    recorded_by text NOT NULL,
    created_at timestamptz NOT NULL,
    -- as the elicitation service judged it; null when the event did not carry it (older ones)
    relative_shortfall numeric
);
-- read models created before the column was
ALTER TABLE measurements ADD COLUMN IF NOT EXISTS relative_shortfall numeric;
CREATE INDEX IF NOT EXISTS measurements_keyset
    ON measurements (contract_id, created_at, measurement_id);
CREATE INDEX IF NOT EXISTS measurements_by_expectation ON measurements (expectation_id, period_end);

CREATE TABLE IF NOT EXISTS gaps (
    gap_id text PRIMARY KEY,
    contract_id text NOT NULL,
    expectation_id text NOT NULL,
    measurement_id text NOT NULL,
    shortfall numeric NOT NULL,
    unit text NOT NULL,
    cause text NOT NULL,
    acknowledged_by text NOT NULL,
    -- the recovery plan, once agreed
    plan_agreed_at timestamptz,
    agreed_with text,
    agreed_by text,
    revised_target numeric,
    revised_target_upper numeric,
    plan_revision integer,
    steps_total integer NOT NULL,
    steps_completed integer NOT NULL,
    recovered boolean
        GENERATED ALWAYS AS (steps_total > 0 AND steps_completed = steps_total) STORED,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS gaps_keyset ON gaps (contract_id, created_at, gap_id);
CREATE INDEX IF NOT EXISTS gaps_by_expectation ON gaps (expectation_id);
CREATE INDEX IF NOT EXISTS gaps_by_measurement ON gaps (measurement_id);

CREATE TABLE IF NOT EXISTS recovery_steps (
    gap_id text NOT NULL,
    step integer NOT NULL,
    contract_id text NOT NULL,
    expectation_id text NOT NULL,
    action text NOT NULL,
    owner text NOT NULL,
    due_on date NOT NULL,
    completed boolean NOT NULL,
    note text,
    completed_by text,
    completed_at timestamptz,
    PRIMARY KEY (gap_id, step)
);
CREATE INDEX IF NOT EXISTS recovery_steps_by_owner ON recovery_steps (contract_id, owner);
"""

PRIORITIZATIONS = """
CREATE TABLE IF NOT EXISTS prioritizations (
    session_id text PRIMARY KEY,
    contract_id text NOT NULL,
    expectations text[] NOT NULL,
    voters text[] NOT NULL,
    method text NOT NULL,
    dots integer,
    -- past closes_at a session takes no votes: the reader compares it with its own clock
    closes_at timestamptz,
    opened_by text NOT NULL,
    -- open, closed, published
    status text NOT NULL,
    closed_by text,
    closed_at timestamptz,
    voted integer,
    eligible integer,
    version integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS prioritizations_keyset
    ON prioritizations (contract_id, created_at, session_id);

-- The current ballot of each voter: a later one replaces it, a withdrawal removes it.
CREATE TABLE IF NOT EXISTS ballots (
    session_id text NOT NULL,
    voter text NOT NULL,
    contract_id text NOT NULL,
    ranking text[],
    dots jsonb,
    -- when the current ballot was cast
    created_at timestamptz NOT NULL,
    PRIMARY KEY (session_id, voter)
);
CREATE INDEX IF NOT EXISTS ballots_keyset ON ballots (session_id, created_at, voter);

CREATE TABLE IF NOT EXISTS rankings (
    session_id text PRIMARY KEY,
    contract_id text NOT NULL,
    event_id text NOT NULL,
    ranking text[] NOT NULL,
    method text NOT NULL,
    result jsonb NOT NULL,
    agreement jsonb NOT NULL,
    concordance double precision NOT NULL,
    turnout_voted integer NOT NULL,
    turnout_eligible integer NOT NULL,
    advice jsonb NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS rankings_latest
    ON rankings (contract_id, created_at DESC, session_id DESC);

-- Each expectation's place in its contract's LATEST published ranking; weight n - position + 1.
CREATE TABLE IF NOT EXISTS corporate_priorities (
    contract_id text NOT NULL,
    expectation_id text NOT NULL,
    position integer NOT NULL,
    ranked_count integer NOT NULL,
    weight integer GENERATED ALWAYS AS (ranked_count - position + 1) STORED,
    session_id text NOT NULL,
    published_at timestamptz NOT NULL,
    PRIMARY KEY (contract_id, expectation_id)
);
CREATE INDEX IF NOT EXISTS corporate_priorities_in_order
    ON corporate_priorities (contract_id, position);
"""

# The auditor filters a contract's trail by type, actor and time (it pages in the log's one
# order: audit_log_in_order, with the table).
AUDIT_INDEXES = """
CREATE INDEX IF NOT EXISTS audit_log_by_type ON audit_log (contract_id, event_type, occurred_at);
CREATE INDEX IF NOT EXISTS audit_log_by_actor ON audit_log (actor_id, occurred_at);
"""

# Views derive, they store nothing: the gap analysis follows the latest ranking at once.
# They are dropped and made again, so that a read model made before a column changed follows.
VIEWS = """
DROP VIEW IF EXISTS expectation_gaps;
DROP VIEW IF EXISTS measurement_gaps;
CREATE VIEW measurement_gaps AS
SELECT m.measurement_id, m.contract_id, m.expectation_id, m.revision, m.comparison, m.target,
       m.target_upper, m.period_start, m.period_end, m.value, m.unit, m.met, m.shortfall,
       m.created_at,
       p.position AS priority, p.ranked_count, p.weight,
       coalesce(p.position <= 2, false) AS top_two,
       -- a shortfall on the top two expectations is what loses a contract: flagged loudest
       (NOT m.met AND coalesce(p.position <= 2, false)) AS flagged,
       r.relative_shortfall,
       -- as a person writes it: 4 x 0.5 is 2, not 2.0
       trim_scale(p.weight * r.relative_shortfall) AS weighted_shortfall,
       g.gap_id
FROM measurements m
CROSS JOIN LATERAL (SELECT coalesce(m.relative_shortfall,
       -- The one place old measurements are upcast: recorded before the elicitation service
       -- judged the relative shortfall itself, they read as the gateway reckoned them then
       -- (the shortfall over the target, none for a zero target), so old data reads the same.
       CASE WHEN m.target IS NULL OR m.target = 0 THEN NULL
            ELSE trim_scale(round(m.shortfall / abs(m.target), 6)) END) AS relative_shortfall) r
LEFT JOIN corporate_priorities p
       ON p.contract_id = m.contract_id AND p.expectation_id = m.expectation_id
LEFT JOIN gaps g ON g.measurement_id = m.measurement_id;

-- Each expectation's gap now: its latest measured period.
CREATE VIEW expectation_gaps AS
SELECT DISTINCT ON (expectation_id) *
FROM measurement_gaps
ORDER BY expectation_id, period_end DESC, period_start DESC, created_at DESC, measurement_id DESC;
"""

DDL = "\n".join(
    [audit.SCHEMA, AUDIT_INDEXES, CONTRACTS, EXPECTATIONS, OBLIGATIONS, RISKS, DELIVERY,
     PRIORITIZATIONS, baselines.SCHEMA, deadlines.SCHEMA, suspects.SCHEMA, assumptions.SCHEMA,
     VIEWS]
)  # fmt: skip

# Every read-model table, in a fixed order (a rebuild is compared with the live one by these).
READ_MODEL_TABLES = (
    "audit_log",
    "contracts",
    "participants",
    "auditor_nominations",
    "questions",
    "expectations",
    "expectation_versions",
    "obligations",
    "risks",
    "risk_acknowledgements",
    "remedial_actions",
    "lessons",
    "preventive_actions",
    "measurements",
    "gaps",
    "recovery_steps",
    "prioritizations",
    "ballots",
    "rankings",
    "corporate_priorities",
    *baselines.TABLES,
    *deadlines.TABLES,
    *suspects.TABLES,
    *assumptions.TABLES,
)

# The projection runner's own tables (offsets, applied event ids, dead letters).
BOOKKEEPING_TABLES = ("projection_offsets", "projection_applied_events", "dead_letters")


async def create_tables(conn: Connection) -> None:
    """Create every read-model table, index and view in the connection's schema, once.

    Replicas starting together would race on CREATE ... IF NOT EXISTS (it is not atomic in
    PostgreSQL), so the DDL runs under a transaction-scoped advisory lock.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('accord-readmodel-ddl'))")
        await conn.execute(DDL)
