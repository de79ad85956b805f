"""Read-model queries the resolvers share, batched by contract for the DataLoaders: a list
relation costs one SQL query per operation, however many contracts and items it spans."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import asyncpg

from services.gateway.closed_sets import ObligationStatus, PrioritizationStatus, RiskStatus
from services.gateway.loading import grouped
from services.gateway.types import (
    AuditorNomination,
    Ballot,
    DotsGiven,
    Expectation,
    Lesson,
    Obligation,
    Participant,
    PreventiveAction,
    Prioritization,
    Question,
    RemedialAction,
    Risk,
    RiskAcknowledgement,
    jsonb,
    ranking_of,
)
from shared.commands.elicitation import RiskKind, Role, Side
from shared.commands.ranking import Method

T = TypeVar("T")


def _grouped(ids: Sequence[str], rows: Sequence[Any], build: Callable[[Any], T]) -> list[list[T]]:
    """One list per contract, in the order asked: what a DataLoader hands back."""
    return grouped(ids, rows, build, by="contract_id")


async def expectation(
    pool: asyncpg.Pool,
    expectation_id: str,
    *,
    version: int | None = None,
) -> Expectation | None:
    """The expectation now or at a version (as of a moment: read from a rebuild, see
    time_travel.py, for its priority then)."""
    row = await pool.fetchrow(
        "SELECT v.version, v.state, p.position FROM expectation_versions v"
        " LEFT JOIN corporate_priorities p ON p.expectation_id = v.expectation_id"
        " WHERE v.expectation_id = $1 AND ($2::int IS NULL OR v.version = $2)"
        " ORDER BY v.version DESC LIMIT 1",
        expectation_id, version,
    )  # fmt: skip
    if row is None:
        return None
    return Expectation.of(jsonb(row["state"]), row["version"], row["position"])


async def expectations_of(pool: asyncpg.Pool, ids: Sequence[str]) -> list[list[Expectation]]:
    """Each contract's expectations, in corporate priority order, then as proposed."""
    rows = await pool.fetch(
        "SELECT contract_id, version, state, position"
        " FROM (SELECT DISTINCT ON (v.expectation_id) v.expectation_id, v.contract_id,"
        " v.version, v.state, p.position, e.created_at"
        " FROM expectation_versions v JOIN expectations e USING (expectation_id)"
        " LEFT JOIN corporate_priorities p ON p.expectation_id = v.expectation_id"
        " WHERE v.contract_id = ANY($1::text[]) ORDER BY v.expectation_id, v.version DESC) latest"
        " ORDER BY position NULLS LAST, created_at, expectation_id",
        list(ids),
    )
    return _grouped(
        ids, rows, lambda r: Expectation.of(jsonb(r["state"]), r["version"], r["position"])
    )


# What a Participant is built from (`p`: participants), and their order on a contract.
PARTICIPANT_COLUMNS = "p.person_id, p.name, p.side, p.role, p.email, p.active"
PARTICIPANT_ORDER = "p.created_at, p.person_id"


async def participants_of(pool: asyncpg.Pool, ids: Sequence[str]) -> list[list[Participant]]:
    rows = await pool.fetch(
        f"SELECT p.contract_id, {PARTICIPANT_COLUMNS} FROM participants p"
        f" WHERE p.contract_id = ANY($1::text[]) ORDER BY {PARTICIPANT_ORDER}",
        list(ids),
    )
    return _grouped(ids, rows, participant)


async def auditor_nominations_of(
    pool: asyncpg.Pool, ids: Sequence[str]
) -> list[list[AuditorNomination]]:
    rows = await pool.fetch(
        "SELECT * FROM auditor_nominations WHERE contract_id = ANY($1::text[])"
        " ORDER BY created_at, person_id",
        list(ids),
    )
    return _grouped(ids, rows, auditor_nomination)


def auditor_nomination(r: Any) -> AuditorNomination:
    return AuditorNomination(
        person_id=r["person_id"], name=r["name"], side=Side(r["side"]),
        nominated_by=r["nominated_by"], nominated_at=r["created_at"],
        confirmers=list(r["confirmers"]),
    )  # fmt: skip


def participant(r: Any) -> Participant:
    return Participant(
        person_id=r["person_id"], name=r["name"], side=Side(r["side"]), role=Role(r["role"]),
        email=r["email"], active=r["active"],
    )  # fmt: skip


def _obligation(r: Any) -> Obligation:
    return Obligation(
        id=r["obligation_id"], contract_id=r["contract_id"], what=r["what"],
        needed_from=r["needed_from"], due_on=r["due_on"], depends_on=list(r["depends_on"]),
        status=ObligationStatus(r["status"]), decided_by=r["decided_by"],
        decline_reason=r["decline_reason"],
        version=r["version"],
    )  # fmt: skip


async def obligations_of(pool: asyncpg.Pool, ids: Sequence[str]) -> list[list[Obligation]]:
    rows = await pool.fetch(
        "SELECT * FROM obligations WHERE contract_id = ANY($1::text[])"
        " ORDER BY created_at, obligation_id",
        list(ids),
    )
    return _grouped(ids, rows, _obligation)


async def risks_of(pool: asyncpg.Pool, ids: Sequence[str]) -> list[list[Risk]]:
    rows = await pool.fetch(
        "SELECT * FROM risks WHERE contract_id = ANY($1::text[]) ORDER BY created_at, risk_id",
        list(ids),
    )
    actions = await pool.fetch(
        "SELECT risk_id, action, taken_by, created_at FROM remedial_actions"
        " WHERE contract_id = ANY($1::text[]) ORDER BY created_at, action_id",
        list(ids),
    )
    acknowledged = await pool.fetch(
        "SELECT risk_id, acknowledged_by, created_at FROM risk_acknowledgements"
        " WHERE risk_id = ANY($1::text[]) ORDER BY created_at, acknowledged_by",
        [r["risk_id"] for r in rows],
    )
    by_risk: dict[str, list[RemedialAction]] = {}
    for a in actions:
        by_risk.setdefault(a["risk_id"], []).append(
            RemedialAction(action=a["action"], taken_by=a["taken_by"], at=a["created_at"])
        )
    acknowledgements: dict[str, list[RiskAcknowledgement]] = {}
    for a in acknowledged:
        acknowledgements.setdefault(a["risk_id"], []).append(
            RiskAcknowledgement(person_id=a["acknowledged_by"], at=a["created_at"])
        )

    def risk(r: Any) -> Risk:
        return Risk(
            id=r["risk_id"],
            contract_id=r["contract_id"],
            kind=RiskKind(r["kind"]),
            title=r["title"],
            description=r["description"],
            likelihood=r["likelihood"],
            impact=r["impact"],
            exposure=r["exposure"],
            affected_expectations=list(r["affected_expectations"]),
            prepare_for=r["prepare_for"],
            acknowledged=r["acknowledged"],
            status=RiskStatus(r["status"]),
            resolution=r["resolution"],
            version=r["version"],
            remedial_actions=by_risk.get(r["risk_id"], []),
            disclosed_by=r["disclosed_by"],
            disclosed_at=r["created_at"],
            acknowledgements=acknowledgements.get(r["risk_id"], []),
            resolved_by=r["resolved_by"],
            resolved_at=r["resolved_at"],
        )

    return _grouped(ids, rows, risk)


async def questions_of(pool: asyncpg.Pool, ids: Sequence[str]) -> list[list[Question]]:
    """Each contract's questions as asked, each with the expectations its answer led to."""
    rows = await pool.fetch(
        "SELECT * FROM questions WHERE contract_id = ANY($1::text[])"
        " ORDER BY created_at, question_id",
        list(ids),
    )
    led_to = await pool.fetch(
        "SELECT DISTINCT ON (v.expectation_id) v.expectation_id, v.version, v.state,"
        " p.position, e.from_answers, e.created_at"
        " FROM expectations e JOIN expectation_versions v USING (expectation_id)"
        " LEFT JOIN corporate_priorities p ON p.expectation_id = e.expectation_id"
        " WHERE e.from_answers && $1::text[]"
        " ORDER BY v.expectation_id, v.version DESC",
        [r["question_id"] for r in rows],
    )
    by_question: dict[str, list[tuple[Any, Expectation]]] = {}
    for e in led_to:
        found = Expectation.of(jsonb(e["state"]), e["version"], e["position"])
        for question_id in e["from_answers"]:
            by_question.setdefault(question_id, []).append((e["created_at"], found))

    def question(r: Any) -> Question:
        proposed = sorted(by_question.get(r["question_id"], []), key=lambda e: (e[0], e[1].id))
        return Question(
            id=r["question_id"], contract_id=r["contract_id"], asked_of=r["asked_of"],
            business_area=r["business_area"], text=r["text"], asked_by=r["asked_by"],
            asked_at=r["created_at"], answer=r["answer"], answered_by=r["answered_by"],
            recorded_by=r["recorded_by"], answered_at=r["answered_at"],
            expectations=[found for _, found in proposed], version=r["version"],
        )  # fmt: skip

    return _grouped(ids, rows, question)


async def lessons_of(pool: asyncpg.Pool, ids: Sequence[str]) -> list[list[Lesson]]:
    """Each contract's lessons as learned, each with the preventive work planned from it."""
    rows = await pool.fetch(
        "SELECT * FROM lessons WHERE contract_id = ANY($1::text[]) ORDER BY created_at, lesson_id",
        list(ids),
    )
    actions = await pool.fetch(
        "SELECT * FROM preventive_actions WHERE lesson_id = ANY($1::text[])"
        " ORDER BY due_on, created_at, action_id",
        [r["lesson_id"] for r in rows],
    )
    by_lesson: dict[str, list[PreventiveAction]] = {}
    for a in actions:
        by_lesson.setdefault(a["lesson_id"], []).append(
            PreventiveAction(
                id=a["action_id"],
                action=a["action"],
                owner=a["owner"],
                due_on=a["due_on"],
                planned_by=a["planned_by"],
                planned_at=a["created_at"],
            )
        )

    def lesson(r: Any) -> Lesson:
        return Lesson(
            id=r["lesson_id"], contract_id=r["contract_id"], lesson=r["lesson"],
            risk_ids=list(r["risk_ids"]), expectation_ids=list(r["expectation_ids"]),
            learned_by=r["learned_by"], learned_at=r["created_at"],
            preventive_actions=by_lesson.get(r["lesson_id"], []), version=r["version"],
        )  # fmt: skip

    return _grouped(ids, rows, lesson)


async def prioritization(pool: asyncpg.Pool, session_id: str) -> Prioritization | None:
    row = await pool.fetchrow("SELECT * FROM prioritizations WHERE session_id = $1", session_id)
    if row is None:
        return None
    return (await _sessions(pool, [row]))[0]


async def prioritizations_of(pool: asyncpg.Pool, ids: Sequence[str]) -> list[list[Prioritization]]:
    rows = await pool.fetch(
        "SELECT * FROM prioritizations WHERE contract_id = ANY($1::text[])"
        " ORDER BY created_at, session_id",
        list(ids),
    )
    sessions = {s.id: s for s in await _sessions(pool, rows)}
    return _grouped(ids, rows, lambda r: sessions[r["session_id"]])


async def _sessions(pool: asyncpg.Pool, rows: Sequence[Any]) -> list[Prioritization]:
    ids = [r["session_id"] for r in rows]
    ballots = await pool.fetch(
        "SELECT session_id, voter, ranking, dots FROM ballots WHERE session_id = ANY($1::text[])"
        " ORDER BY voter",
        ids,
    )
    rankings = await pool.fetch("SELECT * FROM rankings WHERE session_id = ANY($1::text[])", ids)
    by_session: dict[str, list[Ballot]] = {}
    for b in ballots:
        by_session.setdefault(b["session_id"], []).append(
            Ballot(voter=b["voter"], ranking=b["ranking"], dots=DotsGiven.of(jsonb(b["dots"])))
        )
    ranked = {r["session_id"]: ranking_of(r) for r in rankings}
    return [
        Prioritization(
            id=r["session_id"],
            contract_id=r["contract_id"],
            method=Method(r["method"]),
            status=PrioritizationStatus(r["status"]),
            expectations=list(r["expectations"]),
            voters=list(r["voters"]),
            closes_at=r["closes_at"],
            version=r["version"],
            ballots=by_session.get(r["session_id"], []),
            ranking=ranked.get(r["session_id"]),
        )
        for r in rows
    ]
