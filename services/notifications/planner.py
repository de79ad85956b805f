"""From one event to its notices: the trigger, the recipients by policy, each one's channel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.notifications.idempotency import idempotency_key, notice_id_of, notice_set_id
from services.notifications.messages import render
from services.notifications.outcomes import NoticeRef
from services.notifications.policies import Policy, Trigger
from services.notifications.preferences import Cadence, Channel, Preference, default_preference
from services.notifications.snapshot import ContractSnapshot
from services.notifications.source import SourceEvent

DECISION_MAKER = "client_decision_maker"

# The events that may notify someone; everything else only keeps the view.
EVENT_TRIGGERS: Mapping[str, Trigger] = {
    "ExpectationProposed": Trigger.EXPECTATION_PROPOSED,
    "ExpectationRefined": Trigger.EXPECTATION_REFINED,
    "CorporatePrioritiesPublished": Trigger.PRIORITIES_PUBLISHED,
    "ObligationProposed": Trigger.OBLIGATION_PROPOSED,
    "ObligationAccepted": Trigger.OBLIGATION_DECIDED,
    "ObligationDeclined": Trigger.OBLIGATION_DECIDED,
    "RiskDisclosed": Trigger.RISK_DISCLOSED,
    "MeasurementRecorded": Trigger.MEASUREMENT_MISSED,
    # Raised by the service that owns the dated promise (elicitation, ranking).
    "DeadlineApproaching": Trigger.DEADLINE_APPROACHING,
    "DeadlineMissed": Trigger.DEADLINE_MISSED,
    # Elicitation flags what rested on an expectation's earlier terms.
    "LinkSuspected": Trigger.LINK_SUSPECTED,
    "AuditorNominated": Trigger.AUDITOR_NOMINATED,
    # Our own: a reminder that came due is the source of its notices.
    "ReminderFired": Trigger.OBLIGATION_REMINDER,
}


@dataclass(frozen=True)
class NoticePlan:
    """One notice to queue: who, how, what; its key makes queueing it twice impossible."""

    contract_id: UUID
    source_event_id: str
    trigger: Trigger
    person_id: str
    channel: Channel
    subject: str
    text: str
    data: Mapping[str, Any]
    urgent: bool
    # Held for the person's daily digest rather than sent at once.
    digest: bool
    # The trace its source event was stored in: the notice is queued and sent in it too, so a
    # webhook's receiver (and a trace viewer) can follow it back to the command that caused it.
    traceparent: str = ""

    @property
    def key(self) -> str:
        return idempotency_key(self.source_event_id, self.person_id, self.channel.value)

    @property
    def notice_id(self) -> UUID:
        return notice_id_of(self.key)

    @property
    def record_id(self) -> UUID:
        """The NoticeSet that records it with the other notices of its source."""
        return notice_set_id(self.source_event_id)

    @property
    def ref(self) -> NoticeRef:
        return NoticeRef(self.record_id, self.notice_id)


def trigger_of(source: SourceEvent) -> Trigger | None:
    return EVENT_TRIGGERS.get(source.name)


def applies(
    trigger: Trigger, policy: Policy, source: SourceEvent, snapshot: ContractSnapshot
) -> bool:
    """Whether the policy wants notices for this event at all."""
    if not policy.enabled:
        return False
    if trigger is Trigger.MEASUREMENT_MISSED:
        if source.data["met"]:
            return False
        rank = snapshot.rank_of(str(source.data["expectation_id"]))
        return rank is not None and rank <= (policy.top or 2)
    return True


def recipients(
    trigger: Trigger, policy: Policy, source: SourceEvent, snapshot: ContractSnapshot
) -> list[str]:
    """The people the policy names for this event, each once, in the policy's order."""
    chosen: list[str] = []
    for selector in policy.recipients:
        if selector == "proposers":
            chosen.extend(_proposers(trigger, source, snapshot))
        elif selector == "needed_from":
            chosen.extend(_needed_from(source, snapshot))
        elif selector == "owner":
            chosen.extend([str(source.data["owner"])] if source.data.get("owner") else [])
        elif selector == "confirmers":
            chosen.extend(str(p) for p in source.data.get("confirmers", ()))
        else:
            chosen.extend(snapshot.in_role(selector))
    # Only people on the contract now: someone who left hears no more of it.
    return [person for person in dict.fromkeys(chosen) if person in snapshot.people]


def _proposers(trigger: Trigger, source: SourceEvent, snapshot: ContractSnapshot) -> list[str]:
    data = source.data
    if trigger in (Trigger.EXPECTATION_PROPOSED, Trigger.EXPECTATION_REFINED) or (
        trigger is Trigger.MEASUREMENT_MISSED
    ):
        expectation_id = str(data["expectation_id"])
        known = list(snapshot.proposers.get(expectation_id, ()))
        return known + ([str(data["proposed_by"])] if "proposed_by" in data else [])
    if trigger is Trigger.RISK_DISCLOSED:
        affected = [str(e) for e in data["affected_expectations"]]
        if not affected:
            return snapshot.in_role(DECISION_MAKER)  # a risk to the whole contract
        return [p for e in affected for p in snapshot.proposers.get(e, ())]
    if "obligation_id" in data:
        obligation = snapshot.obligations.get(str(data["obligation_id"]))
        proposed_by = data.get("proposed_by") or (obligation.proposed_by if obligation else "")
        return [str(proposed_by)] if proposed_by else []
    return []


def _needed_from(source: SourceEvent, snapshot: ContractSnapshot) -> list[str]:
    data = source.data
    if "needed_from" in data:
        return [str(data["needed_from"])]
    obligation = snapshot.obligations.get(str(data.get("obligation_id", "")))
    return [obligation.needed_from] if obligation else []


def plan(
    source: SourceEvent,
    snapshot: ContractSnapshot,
    policy: Policy,
    preferences: Mapping[str, Preference],
    *,
    email_enabled: bool,
) -> list[NoticePlan]:
    """The notices one event (or one due reminder) gives, by the contract's policy."""
    trigger = trigger_of(source)
    if trigger is None or not applies(trigger, policy, source, snapshot):
        return []
    message = render(trigger, source, snapshot)
    plans = []
    for person_id in recipients(trigger, policy, source, snapshot):
        person = snapshot.people[person_id]
        preference = preferences.get(person_id) or default_preference(person.email, email_enabled)
        # In-app notices are only stored, so holding them for a digest would only delay them.
        digest = (
            preference.cadence is Cadence.DAILY_DIGEST
            and preference.channel is not Channel.IN_APP
            and not policy.urgent
        )
        plans.append(
            NoticePlan(
                contract_id=snapshot.contract_id,
                source_event_id=source.id,
                trigger=trigger,
                person_id=person_id,
                channel=preference.channel,
                subject=message.subject,
                text=message.text,
                data=message.data,
                urgent=policy.urgent,
                digest=digest,
            )
        )
    return plans
