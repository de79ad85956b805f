"""Contracts, who takes part in them, and the discovery questions asked and answered."""

from __future__ import annotations

from services.gateway.projections.routing import Handler, by_event
from services.gateway.projections.values import day
from shared.envelope import Envelope
from shared.pending_writes import Statements

SERVICE = "elicitation"


async def _opened(conn: Statements, e: Envelope) -> None:
    d = e.data
    # A second opening of the same contract (a republished copy under a new id) changes nothing.
    await conn.execute(
        "INSERT INTO contracts (contract_id, title, client_organisation, provider_organisation,"
        " starts_on, opened_by, version, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (contract_id) DO NOTHING",
        d["contract_id"], d["title"], d["client_organisation"], d["provider_organisation"],
        day(d["starts_on"]), d["opened_by"], e.sequence, e.time,
    )  # fmt: skip


async def _touched(conn: Statements, e: Envelope) -> None:
    """The contract stream moved on: its version and time follow its latest event."""
    await conn.execute(
        "UPDATE contracts SET version = $2, updated_at = $3 WHERE contract_id = $1",
        e.data["contract_id"], e.sequence, e.time,
    )  # fmt: skip


async def _joined(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO participants (contract_id, person_id, name, side, role, email, phone,"
        " added_by, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, $9)"
        " ON CONFLICT (contract_id, person_id) DO UPDATE SET name = excluded.name,"
        " side = excluded.side, role = excluded.role, email = excluded.email,"
        " phone = excluded.phone, added_by = excluded.added_by, active = true,"
        " left_at = NULL, left_reason = NULL, removed_by = NULL,"
        " created_at = excluded.created_at",
        d["contract_id"], d["person_id"], d["name"], d["side"], d["role"], d["email"],
        d["phone"], d["added_by"], e.time,
    )  # fmt: skip
    # A nominated auditor who joins (the other side confirmed) is no longer awaited.
    await conn.execute(
        "DELETE FROM auditor_nominations WHERE contract_id = $1 AND person_id = $2",
        d["contract_id"], d["person_id"],
    )  # fmt: skip
    await _touched(conn, e)


async def _nominated(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO auditor_nominations (contract_id, person_id, name, side, nominated_by,"
        " created_at, confirmers) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        d["contract_id"], d["person_id"], d["name"], d["side"], d["nominated_by"], e.time,
        d.get("confirmers", []),
    )  # fmt: skip
    await _touched(conn, e)


async def _left(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "UPDATE participants SET active = false, left_at = $3, left_reason = $4,"
        " removed_by = $5 WHERE contract_id = $1 AND person_id = $2",
        d["contract_id"], d["person_id"], e.time, d["reason"], d["removed_by"],
    )  # fmt: skip
    await _touched(conn, e)


async def _asked(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO questions (question_id, contract_id, asked_of, business_area, text,"
        " asked_by, created_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (question_id) DO NOTHING",
        d["question_id"], d["contract_id"], d["asked_of"], d["business_area"], d["text"],
        d["asked_by"], e.time, _own_version(e),
    )  # fmt: skip
    await _touched_if_on_the_contract(conn, e)


async def _answered(conn: Statements, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "UPDATE questions SET answer = $2, answered_by = $3, recorded_by = $4, answered_at = $5,"
        " version = $6 WHERE question_id = $1",
        d["question_id"], d["answer"], d["answered_by"], d["recorded_by"], e.time,
        _own_version(e),
    )  # fmt: skip
    await _touched_if_on_the_contract(conn, e)


def _own_version(e: Envelope) -> int | None:
    """A question's version when it is a record of its own; None on its contract's stream."""
    return e.sequence if e.subject == e.data["question_id"] else None


async def _touched_if_on_the_contract(conn: Statements, e: Envelope) -> None:
    """A question is an aggregate of its own: its events number its versions, not the
    contract's. Only questions stored on the contract's stream (before questions were
    aggregates) move the contract's version."""
    if e.subject == e.data["contract_id"]:
        await _touched(conn, e)


_HANDLERS: dict[str, Handler] = {
    "ContractOpened": _opened,
    "ParticipantJoined": _joined,
    "ParticipantLeft": _left,
    "QuestionAsked": _asked,
    "QuestionAnswered": _answered,
    "AuditorNominated": _nominated,
    # Shown in its own area, but it moves the contract's version too: the version a client
    # reads is the one its next `expectedVersion` must name.
    "DeadlinePolicySet": _touched,
}


# Apply a contract event; any other event is ignored.
apply = by_event(SERVICE, _HANDLERS)
