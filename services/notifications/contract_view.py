"""The notifications service's own view of each contract, from elicitation's and ranking's events.

It learns who is on each contract and how to reach them, who proposed each expectation, the
obligations and their state, the risks and the latest corporate ranking, without importing
those services. For each event that should notify someone, it plans the notices at that point
of the contract's history and leaves them in the inbox, in the same transaction.

Kafka orders nothing across the two topics: a missed target may come before the ranking
published ahead of it. A miss of an expectation no known ranking ranks is held until a ranking
arrives: planned then if one published before the miss ranks it, dropped once one published
after it arrives (in process, where events arrive in order, that is always the case). A miss
that comes after a ranking published after it goes by the ranking in force when it happened:
the view keeps when each ranking was published.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from services.notifications import inbox, reads
from services.notifications.planner import EVENT_TRIGGERS, NoticePlan, plan, trigger_of
from services.notifications.policies import Policy, Trigger, default_policies, policy_for
from services.notifications.preferences import Preference
from services.notifications.settings import NotifySettings
from services.notifications.snapshot import ContractSnapshot
from services.notifications.source import SourceEvent
from shared.envelope import Envelope
from shared.pending_writes import PendingWrites, Statements
from shared.projection import Batching, Handler

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

    async def apply(conn: Statements, envelope: Envelope) -> None:
        await keep(conn, envelope)
        await ask_for_notices(conn, envelope, defaults, settings.email_enabled)

    return apply


def batching(settings: NotifySettings) -> Batching:
    """The same view a batch at a time: what planning reads (each contract's snapshot, its
    policies and people's preferences) is read once per batch and kept up in memory, the
    writes grouped (see shared/pending_writes.py)."""
    defaults = default_policies(settings.reminder_every, settings.reminder_before_due)

    async def apply(writes: Statements, envelope: Envelope) -> None:
        assert isinstance(writes, PendingWrites)
        await keep(writes, envelope)
        known = _Known.of(writes)
        known.follow(envelope)
        await ask_for_notices(writes, envelope, defaults, settings.email_enabled, known)

    async def prepare(writes: PendingWrites, envelopes: Sequence[Envelope]) -> None:
        known = _Known.of(writes)
        contracts = {str(e.data["contract_id"]) for e in envelopes if _asks(e)}
        for envelope in envelopes:
            contract = str(envelope.data.get("contract_id", ""))
            if contract in contracts:
                known.expectations.setdefault(contract, set()).update(_named(envelope))
        known.policies = await reads.changed_policies_of(writes, contracts)
        known.preferences = await reads.preferences_of(writes, contracts)

    return Batching(apply=apply, order_key=order_key, prepare=prepare)


def order_key(envelope: Envelope) -> str:
    """A contract's events keep their order: each reads the view as those before it left it."""
    return f"contract:{envelope.key}"


def _asks(envelope: Envelope) -> bool:
    return envelope.spec.name in EVENT_TRIGGERS_SEEN


def _named(envelope: Envelope) -> set[str]:
    """The expectations an event names: all of a contract's expectations planning reads."""
    d = envelope.data
    named = {str(d[k]) for k in ("expectation_id", "kept_expectation_id") if d.get(k)}
    for k in ("affected_expectations", "ranking"):
        named.update(str(e) for e in d.get(k) or ())
    return named


class _Known:
    """What a batch's planning reads, read once: each contract's snapshot as the view stands
    after the batch's events so far, the contracts' policies and preferences (which only
    the service's own ledger changes, never this view)."""

    MEMO = "notifications.known"

    def __init__(self) -> None:
        self.snapshots: dict[str, ContractSnapshot] = {}
        # Per contract, the expectations the batch's events name: the snapshot's only ones.
        self.expectations: dict[str, set[str]] = {}
        self.policies: dict[str, dict[str, Policy]] = {}
        self.preferences: dict[str, dict[str, Preference]] = {}

    @classmethod
    def of(cls, writes: PendingWrites) -> _Known:
        known = writes.memo.get(cls.MEMO)
        if known is None:
            known = writes.memo[cls.MEMO] = cls()
        assert isinstance(known, _Known)
        return known

    def follow(self, envelope: Envelope) -> None:
        """Keep the contract's snapshot as `keep` left the view. A new expectation or a new
        text is applied here; anything else that changes the view is read again when needed."""
        contract = str(envelope.data.get("contract_id", ""))
        snapshot = self.snapshots.get(contract)
        name = envelope.spec.name
        if snapshot is None or name not in VIEW_CHANGES:
            return
        d = envelope.data
        expectation = str(d.get("expectation_id", ""))
        if name == "ExpectationProposed":
            if expectation not in snapshot.proposers:  # the view keeps the first
                self.snapshots[contract] = replace(
                    snapshot,
                    proposers={**snapshot.proposers, expectation: (str(d["proposed_by"]),)},
                    expectation_texts={**snapshot.expectation_texts, expectation: d["text"]},
                )
        elif name == "ExpectationRefined":
            if expectation in snapshot.proposers:  # an update of no row changes nothing
                texts = {**snapshot.expectation_texts, expectation: d["text"]}
                self.snapshots[contract] = replace(snapshot, expectation_texts=texts)
        else:
            del self.snapshots[contract]

    async def snapshot(self, writes: Statements, contract_id: str) -> ContractSnapshot:
        found = self.snapshots.get(contract_id)
        if found is None:
            named = self.expectations.get(contract_id, set())
            found = await reads.snapshot(writes, contract_id, expectations=named)
            self.snapshots[contract_id] = found
        return found


async def keep(conn: Statements, envelope: Envelope) -> None:
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
        await conn.execute(
            "INSERT INTO view_ranking_history VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            d["contract_id"], envelope.time, list(d["ranking"]),
        )  # fmt: skip


async def ask_for_notices(
    conn: Statements,
    envelope: Envelope,
    defaults: dict[Trigger, Policy],
    email_enabled: bool,
    known: _Known | None = None,
) -> None:
    """Plan the event's notices by the contract's policy now, and leave them in the inbox.

    `known`: what the batch read once; without it, everything is read for this event."""
    source = SourceEvent(envelope.id, envelope.spec.name, envelope.time, envelope.data)
    trigger = trigger_of(source)
    contract_id = envelope.data["contract_id"]
    if trigger is not None:
        if known is None:
            changed = await reads.changed_policies(conn, contract_id)
            snapshot = await reads.snapshot(conn, contract_id)
            preferences = await reads.preferences(conn, contract_id)
        else:
            contract = str(contract_id)
            changed = known.policies.get(contract, {})
            snapshot = await known.snapshot(conn, contract)
            preferences = known.preferences.get(contract, {})
        policy = policy_for(trigger, defaults, changed)
        # A miss goes by the ranking in force when it happened; None: the latest known one,
        # unless one published before the miss is still to come (then the miss is held).
        in_force = None
        if trigger is Trigger.MEASUREMENT_MISSED and not source.data["met"]:
            in_force = await reads.ranking_in_force(conn, contract_id, source.time)
            if in_force is not None:
                snapshot = replace(snapshot, ranking=in_force)
        plans = plan(source, snapshot, policy, preferences, email_enabled=email_enabled)
        await ask_to_queue(conn, plans, envelope.id, envelope.traceparent)
        if source.name == "ObligationProposed" and policy.enabled:
            await inbox.put(conn, inbox.SCHEDULE, _schedule(envelope, policy), envelope.id)
        if in_force is None and _unranked_miss(source, snapshot):
            await hold_miss(conn, source, contract_id, envelope.traceparent)
        if trigger is Trigger.PRIORITIES_PUBLISHED:
            missed = policy_for(Trigger.MEASUREMENT_MISSED, defaults, changed)
            await release_held_misses(
                conn, contract_id, source.time, snapshot, missed, preferences,
                email_enabled,
            )  # fmt: skip
    if source.name in SETTLED:
        reason = f"the obligation was {SETTLED[source.name]}"
        payload = {"obligation_id": envelope.data["obligation_id"], "reason": reason}
        await inbox.put(conn, inbox.CANCEL, payload, envelope.id)


def _unranked_miss(source: SourceEvent, snapshot: ContractSnapshot) -> bool:
    """A missed target of an expectation the corporate ranking known now does not rank."""
    return (
        source.name == "MeasurementRecorded"
        and not source.data["met"]
        and snapshot.rank_of(str(source.data["expectation_id"])) is None
    )


async def ask_to_queue(
    conn: Statements, plans: list[NoticePlan], source_id: str, traceparent: str
) -> None:
    """Leave the source event's notices in the inbox, in the trace the event was stored in."""
    if plans:
        encoded = [inbox.encode_plan(replace(p, traceparent=traceparent)) for p in plans]
        await inbox.put(conn, inbox.QUEUE, {"plans": encoded}, source_id)


async def hold_miss(
    conn: Statements, source: SourceEvent, contract_id: Any, traceparent: str
) -> None:
    """Keep an unranked miss until a ranking published before it arrives, or one after it."""
    await conn.execute(
        "INSERT INTO view_held_misses (event_id, contract_id, occurred_at, data, traceparent)"
        " VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (event_id) DO NOTHING",
        source.id, contract_id, source.time, json.dumps(dict(source.data), default=str),
        traceparent,
    )  # fmt: skip


async def release_held_misses(
    conn: Statements,
    contract_id: Any,
    published_at: datetime,
    snapshot: ContractSnapshot,
    policy: Policy,
    preferences: dict[str, Preference],
    email_enabled: bool,
) -> None:
    """A ranking published at `published_at` arrived: the misses held from before it were
    unranked when they happened (the contract's rankings arrive in order, so none published
    earlier is still to come); those after it are planned as the ranking ranks them, in the
    order they happened, and those it does not rank wait for a later one."""
    await conn.execute(
        "DELETE FROM view_held_misses WHERE contract_id = $1 AND occurred_at < $2",
        contract_id, published_at,
    )  # fmt: skip
    held = await conn.fetch(
        "SELECT event_id, occurred_at, data, traceparent FROM view_held_misses"
        " WHERE contract_id = $1 ORDER BY occurred_at, event_id",
        contract_id,
    )
    released = []
    for row in held:
        data = json.loads(row["data"])
        source = SourceEvent(row["event_id"], "MeasurementRecorded", row["occurred_at"], data)
        if _unranked_miss(source, snapshot):
            continue
        plans = plan(source, snapshot, policy, preferences, email_enabled=email_enabled)
        await ask_to_queue(conn, plans, source.id, row["traceparent"])
        released.append(source.id)
    if released:
        await conn.execute(
            "DELETE FROM view_held_misses WHERE event_id = ANY($1::text[])", released
        )


# What `keep` changes in the view (a snapshot read before it is out of date).
VIEW_CHANGES = frozenset({
    "ParticipantJoined", "ParticipantLeft", "ExpectationProposed", "ExpectationRefined",
    "ExpectationsMerged", "ObligationProposed", *SETTLED, "RiskDisclosed",
    "CorporatePrioritiesPublished",
})  # fmt: skip
# The events the view plans notices for, or changes reminders for.
EVENT_TRIGGERS_SEEN = frozenset({*EVENT_TRIGGERS, *SETTLED})


def _schedule(envelope: Envelope, policy: Policy) -> dict[str, Any]:
    d = envelope.data
    return {
        "contract_id": d["contract_id"],
        "obligation_id": d["obligation_id"],
        "proposed_at": envelope.time.isoformat(),
        "due_on": d["due_on"],
        # Its reminders fire in the trace of the proposal (none in a row put before).
        "traceparent": envelope.traceparent,
        "every_seconds": policy.remind_every.total_seconds() if policy.remind_every else None,
        "before_due_seconds": (
            policy.remind_before_due.total_seconds() if policy.remind_before_due else None
        ),
    }
