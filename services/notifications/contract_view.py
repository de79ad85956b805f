"""The notifications service's own view of each contract, from elicitation's and ranking's events.

It learns who is on each contract and how to reach them, who proposed each expectation, the
obligations and their state, the risks and the latest corporate ranking, without importing
those services. For each event that should notify someone, it plans the notices at that point
of the contract's history and leaves them in the inbox, in the same transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.notifications import inbox, reads
from services.notifications.planner import plan, trigger_of
from services.notifications.policies import Policy, Trigger, default_policies, policy_for
from services.notifications.settings import NotifySettings
from services.notifications.source import SourceEvent
from shared.database import Connection
from shared.envelope import Envelope
from shared.projection import Handler

TOPICS = ("accord.elicitation.v1", "accord.ranking.v1")

# An obligation no longer waits for a decision after any of these: its reminders stop.
SETTLED = {
    "ObligationAccepted": "accepted",
    "ObligationDeclined": "declined",
    "ObligationFulfilled": "fulfilled",
    "ObligationBreached": "breached",
}


def handler(settings: NotifySettings) -> Handler:
    """The view's handler: keep the view, then ask for the notices the event gives."""
    defaults = default_policies(settings.reminder_every, settings.reminder_before_due)

    async def apply(conn: Connection, envelope: Envelope) -> None:
        await keep(conn, envelope)
        await ask_for_notices(conn, envelope, defaults, settings.email_enabled)

    return apply


async def keep(conn: Connection, envelope: Envelope) -> None:
    """Keep the view; events it does not need are ignored."""
    name = envelope.spec.name
    d = envelope.data
    if name == "ParticipantJoined":
        await conn.execute(
            "INSERT INTO view_participants VALUES ($1, $2, $3, $4, $5, $6, $7, true)"
            " ON CONFLICT (contract_id, person_id) DO UPDATE SET name = excluded.name,"
            " side = excluded.side, role = excluded.role, email = excluded.email,"
            " phone = excluded.phone, active = true",
            d["contract_id"], d["person_id"], d["name"], d["side"], d["role"], d["email"],
            d["phone"],
        )  # fmt: skip
    elif name == "ParticipantLeft":
        await conn.execute(
            "UPDATE view_participants SET active = false WHERE contract_id = $1 AND person_id = $2",
            d["contract_id"], d["person_id"],
        )  # fmt: skip
    elif name == "ExpectationProposed":
        await conn.execute(
            "INSERT INTO view_expectations VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (expectation_id) DO NOTHING",
            d["expectation_id"], d["contract_id"], d["text"], [d["proposed_by"]],
        )  # fmt: skip
    elif name == "ExpectationRefined":
        await conn.execute(
            "UPDATE view_expectations SET text = $2 WHERE expectation_id = $1",
            d["expectation_id"], d["text"],
        )  # fmt: skip
    elif name == "ExpectationsMerged":
        await conn.execute(
            "UPDATE view_expectations SET proposers = $2 WHERE expectation_id = $1",
            d["kept_expectation_id"], list(d["proposers"]),
        )  # fmt: skip
    elif name == "ObligationProposed":
        await conn.execute(
            "INSERT INTO view_obligations VALUES ($1, $2, $3, $4, $5, $6, 'proposed')"
            " ON CONFLICT (obligation_id) DO NOTHING",
            d["obligation_id"], d["contract_id"], d["what"], d["needed_from"],
            date.fromisoformat(d["due_on"]), d["proposed_by"],
        )  # fmt: skip
    elif name in SETTLED:
        await conn.execute(
            "UPDATE view_obligations SET status = $2 WHERE obligation_id = $1",
            d["obligation_id"], SETTLED[name],
        )  # fmt: skip
    elif name == "RiskDisclosed":
        await conn.execute(
            "INSERT INTO view_risks VALUES ($1, $2, $3, $4, $5::uuid[])"
            " ON CONFLICT (risk_id) DO NOTHING",
            d["risk_id"], d["contract_id"], d["title"], d["kind"], d["affected_expectations"],
        )  # fmt: skip
    elif name == "CorporatePrioritiesPublished":
        await conn.execute(
            "INSERT INTO view_rankings VALUES ($1, $2, $3) ON CONFLICT (contract_id)"
            " DO UPDATE SET ranking = excluded.ranking, published_at = excluded.published_at",
            d["contract_id"], list(d["ranking"]), envelope.time,
        )  # fmt: skip


async def ask_for_notices(
    conn: Connection, envelope: Envelope, defaults: dict[Trigger, Policy], email_enabled: bool
) -> None:
    """Plan the event's notices by the contract's policy now, and leave them in the inbox."""
    source = SourceEvent(envelope.id, envelope.spec.name, envelope.time, envelope.data)
    trigger = trigger_of(source)
    contract_id = envelope.data["contract_id"]
    if trigger is not None:
        policy = policy_for(trigger, defaults, await reads.changed_policies(conn, contract_id))
        plans = plan(
            source,
            await reads.snapshot(conn, contract_id),
            policy,
            await reads.preferences(conn, contract_id),
            email_enabled=email_enabled,
        )
        if plans:
            encoded = [inbox.encode_plan(p) for p in plans]
            await inbox.put(conn, inbox.QUEUE, {"plans": encoded}, envelope.id)
        if source.name == "ObligationProposed" and policy.enabled:
            await inbox.put(conn, inbox.SCHEDULE, _schedule(envelope, policy), envelope.id)
    if source.name in SETTLED:
        reason = f"the obligation was {SETTLED[source.name]}"
        payload = {"obligation_id": envelope.data["obligation_id"], "reason": reason}
        await inbox.put(conn, inbox.CANCEL, payload, envelope.id)


def _schedule(envelope: Envelope, policy: Policy) -> dict[str, Any]:
    d = envelope.data
    return {
        "contract_id": d["contract_id"],
        "obligation_id": d["obligation_id"],
        "proposed_at": envelope.time.isoformat(),
        "due_on": d["due_on"],
        "every_seconds": policy.remind_every.total_seconds() if policy.remind_every else None,
        "before_due_seconds": (
            policy.remind_before_due.total_seconds() if policy.remind_before_due else None
        ),
    }
