"""Expectations: the current state of each, and every version with who, when, why and the
whole state after it, so the gateway can answer "as of version N / time T" and diff versions.

Every event on an expectation's stream is a version (the stream's own version number), so
the numbers match the ones the elicitation service checks commands against. The state is a
plain JSON document evolved event by event; the `expectations` row is that document laid out
in columns, plus the corporate priority, which comes from ranking's events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from services.gateway.projections.errors import UnplaceableEvent
from services.gateway.projections.values import day, document, iso, moment, number
from shared.envelope import Envelope
from shared.pending_writes import PendingWrites, Statements, write_row
from shared.schemas.registry import ContractSpec

SERVICE = "elicitation"
State = dict[str, Any]

# The events of an expectation's stream, each with the field naming the person who acted.
ACTED_BY = {
    "ExpectationProposed": "proposed_by",
    "ExpectationRefined": "refined_by",
    "ExpectationWithdrawn": "withdrawn_by",
    "ExpectationsMerged": "merged_by",
    "ProviderAdviceGiven": "advised_by",
    "ExpectationCommitted": "committed_by",
    "ExpectationDeclined": "declined_by",
    "MeasurementRecorded": "recorded_by",
    "GapAcknowledged": "acknowledged_by",
    "RecoveryPlanAgreed": "agreed_by",
    "RecoveryStepCompleted": "completed_by",
}

# Where each event says why (the free text the person gave).
_WHY = {
    "ExpectationRefined": "reason",
    "ExpectationWithdrawn": "reason",
    "ExpectationsMerged": "reason",
    "ProviderAdviceGiven": "advice",
    "ExpectationCommitted": "note",
    "ExpectationDeclined": "reason",
    "MeasurementRecorded": "source",
    "GapAcknowledged": "cause",
    "RecoveryStepCompleted": "note",
}


def proposed(data: dict[str, Any], at: str) -> State:
    """The state of a newly proposed expectation (revision 1, no terms yet)."""
    return {
        "expectation_id": data["expectation_id"],
        "contract_id": data["contract_id"],
        "revision": 1,
        "text": data["text"],
        "business_area": data["business_area"],
        "why_it_matters": data["why_it_matters"],
        "from_answers": list(data["from_answers"]),
        "terms": None,
        "measurable": False,
        # Unknown until the first refinement states terms.
        "missing_for_measurable": None,
        "status": "proposed",
        "decided_revision": None,
        "commitment": None,
        "decline": None,
        "withdrawal": None,
        "advice": [],
        "proposed_by": data["proposed_by"],
        "proposed_at": at,
        "proposers": [data["proposed_by"]],
        "merged_into": None,
        "merged_from": [],
        "delivery": {
            "measurements": 0,
            "latest_measurement": None,
            "gaps": 0,
            "recovery_plans": 0,
            "steps_completed": 0,
        },
    }


def evolve(state: State, name: str, data: dict[str, Any], subject: str, at: str) -> State:
    """The state after one more event of the expectation's stream (a new document)."""
    s: State = orjson.loads(orjson.dumps(state))  # a deep copy: written versions stay as they were
    by = data.get(ACTED_BY[name], "")
    if name == "ExpectationRefined":
        s.update(
            revision=data["revision"],
            text=data["text"],
            terms=data["terms"],
            measurable=data["measurable"],
            missing_for_measurable=list(data["missing_for_measurable"]),
        )
        # The status the aggregate left; events stored before they carried it reopened a
        # decision (the rule as it stood then, kept here for them only).
        if data.get("status") is not None:
            s["status"] = data["status"]
        elif s["status"] in ("committed", "declined"):
            s["status"] = "proposed"
    elif name == "ExpectationWithdrawn":
        s["status"] = "withdrawn"
        s["withdrawal"] = {"reason": data["reason"], "by": by, "at": at}
    elif name == "ExpectationsMerged":
        s["proposers"] = list(data["proposers"])
        # The same fact lands on both streams; the subject says which side this one is.
        if subject == data["kept_expectation_id"]:
            s["merged_from"] = [*s["merged_from"], data["merged_expectation_id"]]
        else:
            s["status"] = "merged"
            s["merged_into"] = data["kept_expectation_id"]
    elif name == "ProviderAdviceGiven":
        advice = {k: data[k] for k in ("revision", "importance", "feasibility", "advice")}
        s["advice"] = [*s["advice"], {**advice, "by": by, "at": at}]
    elif name == "ExpectationCommitted":
        s.update(status="committed", decided_revision=data["revision"], decline=None)
        s["commitment"] = {"revision": data["revision"], "note": data["note"], "by": by, "at": at}
    elif name == "ExpectationDeclined":
        s.update(status="declined", decided_revision=data["revision"], commitment=None)
        s["decline"] = {"revision": data["revision"], "reason": data["reason"], "by": by, "at": at}
    elif name == "MeasurementRecorded":
        s["delivery"]["measurements"] += 1
        s["delivery"]["latest_measurement"] = {
            k: data[k]
            for k in ("measurement_id", "period_start", "period_end", "value", "met", "shortfall")
        }
    elif name == "GapAcknowledged":
        s["delivery"]["gaps"] += 1
    elif name == "RecoveryPlanAgreed":
        s["delivery"]["recovery_plans"] += 1
        if data["revised_target"] is not None:
            terms = dict(s["terms"] or {})
            terms.update(target=data["revised_target"], target_upper=data["revised_target_upper"])
            s.update(revision=data["revision"], terms=terms)
            # Where the decision stands, as the aggregate left it; events stored before they
            # carried it: a commitment carried over (the rule then, for them only).
            if data.get("decided_revision") is not None:
                s["decided_revision"] = data["decided_revision"]
            elif s["status"] == "committed":
                s["decided_revision"] = data["revision"]
    elif name == "RecoveryStepCompleted":
        s["delivery"]["steps_completed"] += 1
    return s


def handles(spec: ContractSpec) -> bool:
    """Whether the event is on an expectation's stream (a version of it)."""
    return spec.service == SERVICE and spec.name in ACTED_BY


def reason_of(name: str, data: dict[str, Any]) -> str:
    """Why this version came about, in the words the person gave (or the record's own)."""
    if name == "ExpectationProposed":
        return "proposed"
    if name == "RecoveryPlanAgreed":
        if data["revised_target"] is not None:
            return f"target revised in the recovery plan for gap {data['gap_id']}"
        return f"recovery plan agreed for gap {data['gap_id']}"
    field = _WHY.get(name)
    return str(data[field]) if field else ""


Latest = tuple[int, State] | None
# In a batch's memo: each expectation's latest (version, state), as the batch has made it.
LATEST = "expectations:latest"
# In a batch's memo: the terms of the first version of (expectation, revision) a measurement
# of the batch is judged against; None while no version with that revision is known.
FIRST_TERMS = "expectations:first-terms"


def _memo(conn: Statements, name: str) -> dict[Any, Any] | None:
    return conn.memo.setdefault(name, {}) if isinstance(conn, PendingWrites) else None


async def prepare(writes: PendingWrites, envelopes: Sequence[Envelope]) -> None:
    """Read the latest version of every expectation the batch touches, and the terms every
    measurement of the batch is judged against, in at most two queries. An expectation the
    batch itself proposes first has nothing stored to read (were it stored already, its
    first version's row would refuse the batch, which is then applied one by one)."""
    streams: set[str] = set()
    proposed_here: set[str] = set()
    judged: set[tuple[str, int]] = set()
    for envelope in envelopes:
        name = envelope.spec.name
        if envelope.spec.service != SERVICE or name not in ACTED_BY:
            continue
        try:
            stream = _stream_of(name, envelope)
        except UnplaceableEvent:
            continue  # dead-lettered when applied
        if name == "ExpectationProposed" and stream not in streams:
            proposed_here.add(stream)
        streams.add(stream)
        # Only a measurement recorded before the event carried its terms needs them looked up.
        if name == "MeasurementRecorded" and envelope.data.get("comparison") is None:
            judged.add((str(envelope.data["expectation_id"]), int(envelope.data["revision"])))
    latest: dict[str, Latest] = writes.memo.setdefault(LATEST, {})
    latest.update(dict.fromkeys(streams))
    stored = streams - proposed_here
    for row in (
        await writes.fetch(
            "SELECT DISTINCT ON (expectation_id) expectation_id, version, state"
            " FROM expectation_versions WHERE expectation_id = ANY($1::text[])"
            " ORDER BY expectation_id, version DESC",
            list(stored),
        )
        if stored
        else []
    ):
        latest[row["expectation_id"]] = (row["version"], orjson.loads(row["state"]))
    first: dict[tuple[str, int], dict[str, Any] | None] = writes.memo.setdefault(FIRST_TERMS, {})
    first.update(dict.fromkeys(judged))
    if not judged:
        return
    for row in await writes.fetch(
        "SELECT DISTINCT ON (v.expectation_id, v.revision) v.expectation_id, v.revision,"
        " v.state->'terms' AS terms FROM expectation_versions v"
        " JOIN unnest($1::text[], $2::int[]) AS j(expectation_id, revision)"
        " USING (expectation_id, revision) ORDER BY v.expectation_id, v.revision, v.version",
        [e for e, _ in judged],
        [r for _, r in judged],
    ):
        first[(row["expectation_id"], row["revision"])] = orjson.loads(row["terms"] or "null") or {}


async def terms_at(conn: Statements, expectation_id: str, revision: int) -> dict[str, Any]:
    """The terms of the first version with `revision` (empty if it stated none): what a
    measurement on the same stream, so applied after that version, was judged against. Only
    for measurements recorded before MeasurementRecorded carried its terms."""
    first = _memo(conn, FIRST_TERMS)
    if first is not None and (expectation_id, revision) in first:
        return first[(expectation_id, revision)] or {}
    state = await conn.fetchval(
        "SELECT state FROM expectation_versions WHERE expectation_id = $1 AND revision = $2"
        " ORDER BY version LIMIT 1",
        expectation_id, revision,
    )  # fmt: skip
    terms = orjson.loads(state)["terms"] if state is not None else None
    return terms or {}


async def _latest(conn: Statements, expectation_id: str) -> Latest:
    latest = _memo(conn, LATEST)
    if latest is not None and expectation_id in latest:
        known: Latest = latest[expectation_id]
        return known
    row = await conn.fetchrow(
        "SELECT version, state FROM expectation_versions WHERE expectation_id = $1"
        " ORDER BY version DESC LIMIT 1",
        expectation_id,
    )
    if row is None:
        return None
    state: State = orjson.loads(row["state"])
    return row["version"], state


def _stream_of(name: str, envelope: Envelope) -> str:
    """The expectation whose stream the event is on."""
    data = envelope.data
    if name != "ExpectationsMerged":
        return str(data["expectation_id"])
    sides = (data["kept_expectation_id"], data["merged_expectation_id"])
    if envelope.subject not in sides:
        raise UnplaceableEvent(f"ExpectationsMerged on {envelope.subject}, not one of {sides}")
    return envelope.subject


async def apply(conn: Statements, envelope: Envelope) -> None:
    """Record a new version of the expectation and its current state; other events pass by."""
    name = envelope.spec.name
    if envelope.spec.service != SERVICE or name not in ACTED_BY:
        return
    expectation_id = _stream_of(name, envelope)
    at = iso(envelope.time)
    latest = await _latest(conn, expectation_id)
    if name == "ExpectationProposed":
        if latest is not None:
            raise UnplaceableEvent(f"expectation {expectation_id} was already proposed")
        version, state = envelope.sequence or 1, proposed(envelope.data, at)
    else:
        if latest is None:
            raise UnplaceableEvent(f"{name} on expectation {expectation_id}, never proposed")
        version = envelope.sequence or latest[0] + 1
        state = evolve(latest[1], name, envelope.data, envelope.subject, at)
    await conn.execute(
        "INSERT INTO expectation_versions (expectation_id, version, contract_id, event_id,"
        " event_type, revision, changed_at, changed_by, actor_id, actor_role, reason, state)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)",
        expectation_id, version, state["contract_id"], envelope.id, name, state["revision"],
        envelope.time, envelope.data[ACTED_BY[name]], envelope.actor_id, envelope.actor_role,
        reason_of(name, envelope.data), document(state),
    )  # fmt: skip
    await _save_current(conn, state, version, envelope)
    _remember(conn, version, state)


async def _save_current(conn: Statements, s: State, version: int, envelope: Envelope) -> None:
    """Lay the state out in the expectations row (the priority is ranking's to set)."""
    terms = s["terms"] or {}
    latest_advice = s["advice"][-1] if s["advice"] else {}

    def optional(value: Any) -> str | None:
        return None if value is None else document(value)

    # A batch writes each expectation's row once, as its last event left it.
    await write_row(
        conn,
        s["expectation_id"],
        "INSERT INTO expectations (expectation_id, contract_id, version, revision, text,"
        " business_area, why_it_matters, from_answers, metric, comparison, target, target_upper,"
        " unit, deadline, recurrence, measurement_method, measured_by, measurable,"
        " missing_for_measurable, status, decided_revision, commitment, decline, withdrawal,"
        " advice, importance, feasibility, proposed_by, proposers, merged_into, merged_from,"
        " corporate_priority, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
        " $18, $19, $20, $21, $22::jsonb, $23::jsonb, $24::jsonb, $25::jsonb, $26, $27, $28,"
        " $29, $30, $31,"
        # Ranking's events may have come first (another topic): take the priority known now.
        " (SELECT position FROM corporate_priorities p"
        "  WHERE p.contract_id = $2 AND p.expectation_id = $1), $32, $33)"
        " ON CONFLICT (expectation_id) DO UPDATE SET version = excluded.version,"
        " revision = excluded.revision, text = excluded.text,"
        " business_area = excluded.business_area, why_it_matters = excluded.why_it_matters,"
        " from_answers = excluded.from_answers, metric = excluded.metric,"
        " comparison = excluded.comparison, target = excluded.target,"
        " target_upper = excluded.target_upper, unit = excluded.unit,"
        " deadline = excluded.deadline, recurrence = excluded.recurrence,"
        " measurement_method = excluded.measurement_method,"
        " measured_by = excluded.measured_by, measurable = excluded.measurable,"
        " missing_for_measurable = excluded.missing_for_measurable, status = excluded.status,"
        " decided_revision = excluded.decided_revision, commitment = excluded.commitment,"
        " decline = excluded.decline, withdrawal = excluded.withdrawal,"
        " advice = excluded.advice, importance = excluded.importance,"
        " feasibility = excluded.feasibility, proposers = excluded.proposers,"
        " merged_into = excluded.merged_into, merged_from = excluded.merged_from,"
        " updated_at = excluded.updated_at",
        s["expectation_id"], s["contract_id"], version, s["revision"], s["text"],
        s["business_area"], s["why_it_matters"], s["from_answers"], terms.get("metric"),
        terms.get("comparison"), number(terms.get("target")), number(terms.get("target_upper")),
        terms.get("unit"), day(terms.get("deadline")), terms.get("recurrence"),
        terms.get("measurement_method"), terms.get("measured_by"), s["measurable"],
        s["missing_for_measurable"], s["status"], s["decided_revision"],
        optional(s["commitment"]), optional(s["decline"]), optional(s["withdrawal"]),
        document(s["advice"]), latest_advice.get("importance"),
        latest_advice.get("feasibility"), s["proposed_by"], s["proposers"], s["merged_into"],
        s["merged_from"], moment(s["proposed_at"]), envelope.time,
    )  # fmt: skip


def _remember(conn: Statements, version: int, state: State) -> None:
    """What the rest of the batch reads of this expectation instead of asking the database."""
    latest = _memo(conn, LATEST)
    if latest is None:
        return
    expectation_id = state["expectation_id"]
    latest[expectation_id] = (version, state)
    first = _memo(conn, FIRST_TERMS)
    judged = (expectation_id, state["revision"])
    if first is not None and judged in first and first[judged] is None:
        first[judged] = state["terms"] or {}
