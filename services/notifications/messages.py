"""The words of each notice: a subject, a plain text and the data a machine would want."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.notifications.policies import Trigger
from services.notifications.snapshot import ContractSnapshot
from services.notifications.source import SourceEvent


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    data: Mapping[str, Any]


def render(trigger: Trigger, source: SourceEvent, snapshot: ContractSnapshot) -> Message:
    message = _RENDERERS[trigger](source, snapshot)
    data = {
        "trigger": trigger.value,
        "event": source.name,
        "event_id": source.id,
        "contract_id": str(snapshot.contract_id),
        **message.data,
    }
    return Message(message.subject, message.text, data)


def _expectation_proposed(source: SourceEvent, snapshot: ContractSnapshot) -> Message:
    d = source.data
    why = f" Why it matters: {d['why_it_matters']}." if d.get("why_it_matters") else ""
    return Message(
        f"New expectation: {d['text']}",
        f"{snapshot.name_of(d['proposed_by'])} proposed \u201c{d['text']}\u201d "
        f"({d['business_area']}).{why} The provider's team will refine it until it is "
        "specific and measurable.",
        {"expectation_id": d["expectation_id"]},
    )


def _expectation_refined(source: SourceEvent, snapshot: ContractSnapshot) -> Message:
    d = source.data
    if d.get("measurable"):
        state = "It is now specific and measurable, ready to be prioritized."
    else:
        missing = ", ".join(name.replace("_", " ") for name in d["missing_for_measurable"])
        state = f"Still missing to be measurable: {missing}."  # plain words, not field names
    return Message(
        f"Expectation refined (revision {d['revision']}): {d['text']}",
        f"{snapshot.name_of(d['refined_by'])} refined \u201c{d['text']}\u201d: {d['reason']}. "
        + state,
        {"expectation_id": d["expectation_id"], "revision": d["revision"]},
    )


def _priorities_published(source: SourceEvent, snapshot: ContractSnapshot) -> Message:
    ranking = [str(e) for e in source.data["ranking"]]
    lines = [f"{n}. {snapshot.text_of(e)}" for n, e in enumerate(ranking, start=1)]
    return Message(
        "The corporate priorities are published",
        "The decision makers' votes made one corporate ranking:\n" + "\n".join(lines),
        {
            "ranking": [
                {"rank": n, "expectation_id": e, "text": snapshot.text_of(e)}
                for n, e in enumerate(ranking, start=1)
            ]
        },
    )


def _obligation_proposed(source: SourceEvent, snapshot: ContractSnapshot) -> Message:
    d = source.data
    return Message(
        f"Decision needed by {d['due_on']}: {d['what']}",
        f"{snapshot.name_of(d['proposed_by'])} needs this from "
        f"{snapshot.name_of(d['needed_from'])} by {d['due_on']}: {d['what']}. "
        "Please accept or decline it.",
        {"obligation_id": d["obligation_id"], "due_on": str(d["due_on"])},
    )


def _obligation_reminder(source: SourceEvent, snapshot: ContractSnapshot) -> Message:
    obligation_id = str(source.data["obligation_id"])
    obligation = snapshot.obligations.get(obligation_id)
    what = obligation.what if obligation else "an obligation"
    due = obligation.due_on if obligation else None
    overdue = due is not None and source.time.date() > due
    when = f"was due on {due}" if overdue else f"is due on {due}"
    return Message(
        f"Reminder: {what} is waiting for a decision",
        f"Still undecided: {what}. It {when}. Please accept or decline it.",
        {"obligation_id": obligation_id, "due_on": str(due) if due else None, "overdue": overdue},
    )


def _obligation_decided(source: SourceEvent, snapshot: ContractSnapshot) -> Message:
    d = source.data
    obligation = snapshot.obligations.get(str(d["obligation_id"]))
    what = obligation.what if obligation else "an obligation"
    if source.name == "ObligationAccepted":
        decision = f"{snapshot.name_of(d['accepted_by'])} accepted"
        reason = ""
    else:
        decision = f"{snapshot.name_of(d['declined_by'])} declined"
        reason = f" Reason: {d['reason']}."
    return Message(
        f"Obligation {source.name.removeprefix('Obligation').lower()}: {what}",
        f"{decision}: {what}.{reason}",
        {"obligation_id": d["obligation_id"], "decision": source.name},
    )


def _risk_disclosed(source: SourceEvent, snapshot: ContractSnapshot) -> Message:
    d = source.data
    affected = [snapshot.text_of(str(e)) for e in d["affected_expectations"]]
    concerns = f" It affects: {'; '.join(affected)}." if affected else ""
    prepare = f" Be prepared for: {d['prepare_for']}." if d.get("prepare_for") else ""
    heading = "Be prepared" if d["kind"] == "preconditioning" else "Risk disclosed"
    return Message(
        f"{heading}: {d['title']}",
        f"{d['description']} (likelihood {d['likelihood']}/5, impact {d['impact']}/5)."
        f"{concerns}{prepare}",
        {
            "risk_id": d["risk_id"],
            "kind": d["kind"],
            "affected_expectations": [str(e) for e in d["affected_expectations"]],
        },
    )


def _measurement_missed(source: SourceEvent, snapshot: ContractSnapshot) -> Message:
    d = source.data
    expectation_id = str(d["expectation_id"])
    rank = snapshot.rank_of(expectation_id)
    text = snapshot.text_of(expectation_id)
    return Message(
        f"Target missed on corporate priority #{rank}: {text}",
        f"{_period(d['period_start'], d['period_end'])}: measured {d['value']} {d['unit']}, "
        f"{d['shortfall']} {d['unit']} short of the target on the contract's number {rank} "
        "priority. A shortfall on the top priorities is what loses a contract.",
        {
            "expectation_id": expectation_id,
            "measurement_id": d["measurement_id"],
            "rank": rank,
            "value": str(d["value"]),
            "shortfall": str(d["shortfall"]),
        },
    )


# What each kind of dated promise is called in a notice.
_PROMISES = {
    "obligation": "Obligation",
    "recovery_step": "Recovery step",
    "expectation": "Expectation deadline",
    "risk_acknowledgement": "Risk awaiting acknowledgement",
    "prioritization": "Prioritization closing",
}


def _deadline(source: SourceEvent, snapshot: ContractSnapshot) -> Message:
    d = source.data
    promise = _PROMISES.get(str(d["kind"]), "A dated promise")
    step = f" (step {d['step']})" if d.get("step") else ""
    due = str(d["due_at"])
    if source.name == "DeadlineMissed":
        subject = f"Deadline missed: {promise.lower()}{step}"
        text = f"{promise}{step} was due at {due} and is still open."
    else:
        subject = f"{d['threshold']}% of the time used: {promise.lower()}{step}"
        text = f"{promise}{step} is due at {due}; {d['threshold']}% of its time has passed."
    owner = f" Owner: {snapshot.name_of(str(d['owner']))}." if d.get("owner") else ""
    return Message(
        subject,
        text + owner,
        {
            "kind": d["kind"],
            "item_id": str(d["item_id"]),
            "step": d.get("step"),
            "threshold": d.get("threshold"),
            "due_at": due,
        },
    )


# What each kind of suspect item is called in a notice.
_SUSPECTS = {
    "commitment": "The provider's commitment",
    "obligation": "An obligation",
    "risk": "A risk",
    "baseline": "A signed baseline",
    "ranking": "The published corporate ranking",
}


def _link_suspected(source: SourceEvent, snapshot: ContractSnapshot) -> Message:
    d = source.data
    expectation_id = str(d["expectation_id"])
    item = _SUSPECTS.get(str(d["kind"]), "An item")
    diff = "; ".join(
        f"{c['field']}: {c['before'] or 'empty'} \u2192 {c['after'] or 'empty'}"
        for c in d["changes"]
    )
    return Message(
        f"Review needed: {item.lower()} rests on changed terms",
        f"{snapshot.name_of(str(d['refined_by']))} refined \u201c{snapshot.text_of(expectation_id)}"
        f"\u201d (revision {d['from_revision']} to {d['revision']}): {diff}. {item} rested on "
        "the earlier terms and is suspect until someone who may decide it reviews it.",
        {
            "kind": d["kind"],
            "item_id": str(d["item_id"]),
            "expectation_id": expectation_id,
            "revision": d["revision"],
            "changes": [dict(c) for c in d["changes"]],
        },
    )


def _auditor_nominated(source: SourceEvent, snapshot: ContractSnapshot) -> Message:
    d = source.data
    by = snapshot.name_of(str(d["nominated_by"]))
    confirmers = [str(p) for p in d.get("confirmers", ())]
    who = " or ".join(snapshot.name_of(p) for p in confirmers) or "the other side's appointer"
    return Message(
        f"Auditor to confirm: {d['name']}, named by {by}",
        f"{by} named {d['name']} as the contract's auditor for the {d['side']} side. They join"
        f" once {who} confirms them, with joinContract for the same person and side.",
        {
            "person_id": d["person_id"],
            "name": d["name"],
            "side": d["side"],
            "nominated_by": d["nominated_by"],
            "confirmers": confirmers,
        },
    )


def _period(start: date | str, end: date | str) -> str:
    return f"From {start} to {end}"


_RENDERERS: dict[Trigger, Callable[[SourceEvent, ContractSnapshot], Message]] = {
    Trigger.EXPECTATION_PROPOSED: _expectation_proposed,
    Trigger.EXPECTATION_REFINED: _expectation_refined,
    Trigger.PRIORITIES_PUBLISHED: _priorities_published,
    Trigger.OBLIGATION_PROPOSED: _obligation_proposed,
    Trigger.OBLIGATION_REMINDER: _obligation_reminder,
    Trigger.OBLIGATION_DECIDED: _obligation_decided,
    Trigger.RISK_DISCLOSED: _risk_disclosed,
    Trigger.MEASUREMENT_MISSED: _measurement_missed,
    Trigger.DEADLINE_APPROACHING: _deadline,
    Trigger.DEADLINE_MISSED: _deadline,
    Trigger.LINK_SUSPECTED: _link_suspected,
    Trigger.AUDITOR_NOMINATED: _auditor_nominated,
}
