"""The NoticeSet aggregate: the notices one source event gave, queued in one event, their
delivery outcomes recorded together.

One event per source event says who is told, on which channel, and what; an attempt's outcome
on several of its notices (a round of sends, a digest) is one event too. Before v2 each notice
was an aggregate of its own (notice.py), two or more events and inserts per notice; those
records are still read and still take commands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from services.notifications.errors import (
    AlreadyDelivered,
    DeadLettered,
    NotDeadLettered,
    NotTheRecipient,
)
from services.notifications.idempotency import notice_set_id
from services.notifications.notice import REASON_LIMIT, NoticeStatus
from services.notifications.outcomes import IN_APP_ADDRESS, Delivered, Failed
from services.notifications.planner import NoticePlan
from services.notifications.preferences import Channel
from shared.eventstore import AccordAggregate


@dataclass
class NoticeState:
    """One notice of a set, as its set's events leave it."""

    id: UUID
    contract_id: UUID
    key: str
    source_event_id: str
    trigger: str
    person_id: str
    channel: str
    subject: str
    text: str
    data: dict[str, Any]
    urgent: bool
    status: NoticeStatus
    # A digest notice waits for its digest; a failed one for its next attempt.
    next_attempt_at: datetime | None
    attempts: int = 0
    acknowledged_by: str = ""
    # Attempts made before it was last queued again by hand (see Notice).
    attempts_before_requeue: int = 0

    @property
    def pending(self) -> bool:
        """Neither delivered nor dead-lettered: there is an attempt still to make."""
        return self.status in (NoticeStatus.QUEUED, NoticeStatus.RETRYING)

    def is_due(self, now: datetime) -> bool:
        """Still to be sent, and its time has come."""
        return self.pending and (self.next_attempt_at is None or self.next_attempt_at <= now)

    def check_pending(self) -> None:
        if self.status is NoticeStatus.DELIVERED:
            raise AlreadyDelivered(self.id)
        if self.status is NoticeStatus.DEAD_LETTERED:
            raise DeadLettered(self.id)


class NoticeSet(AccordAggregate):
    """Its id is a function of its source event's id, so a source's notices are queued once."""

    # Declared, rather than named in @event, for their contract's version (the library's
    # class_version, which the relay publishes as v2).
    class NotificationQueued(AccordAggregate.Created):
        class_version = 2
        source_event_id: str
        contract_id: UUID
        trigger: str
        subject: str
        text: str
        data: dict[str, Any]
        urgent: bool
        notices: list[dict[str, Any]]

    class NotificationDelivered(AccordAggregate.Event):
        class_version = 2
        deliveries: list[dict[str, Any]]

    class NotificationFailed(AccordAggregate.Event):
        class_version = 2
        failures: list[dict[str, Any]]

    @staticmethod
    def create_id(source_event_id: str) -> UUID:
        return notice_set_id(source_event_id)

    @classmethod
    def queue(cls, plans: Sequence[NoticePlan], digest_at: datetime | None) -> NoticeSet:
        """The notices one source gave (all of one source event), one entry per person and
        channel; those held for a digest wait until `digest_at`. An in-app notice is
        delivered as it is queued, in the same save: storing it is its delivery (the app
        lists it to its person), so no worker has a send to make and record afterwards."""
        first = plans[0]
        queued = cls(
            source_event_id=first.source_event_id,
            contract_id=first.contract_id,
            trigger=first.trigger.value,
            subject=first.subject,
            text=first.text,
            data=dict(first.data),
            urgent=first.urgent,
            notices=[
                {
                    "notice_id": p.notice_id,
                    "key": p.key,
                    "person_id": p.person_id,
                    "channel": p.channel.value,
                    "not_before": digest_at if p.digest else None,
                }
                for p in plans
            ],
        )
        queued.carry_trace(first.traceparent)
        in_app = [p for p in plans if p.channel is Channel.IN_APP and not p.digest]
        queued.record([Delivered(p.ref, IN_APP_ADDRESS) for p in in_app])
        return queued

    @event(NotificationQueued)
    def __init__(
        self,
        source_event_id: str,
        contract_id: UUID,
        trigger: str,
        subject: str,
        text: str,
        data: dict[str, Any],
        urgent: bool,
        notices: list[dict[str, Any]],
    ) -> None:
        self._contract_id = contract_id
        self.source_event_id = source_event_id
        self.notices = {
            n["notice_id"]: _queued(
                n, contract_id, source_event_id, trigger, subject, text, data, urgent
            )
            for n in notices
        }

    @property
    def contract_id(self) -> UUID:
        return self._contract_id

    def collect_events(self) -> Sequence[Any]:
        events = super().collect_events()
        for stored in events:
            # Whatever the set records follows from its source event, unless a command named
            # its own cause: the audit trail leads back to it.
            meta: dict[str, Any] = getattr(stored, "_meta", {})
            meta["causation_id"] = meta.get("causation_id") or self.source_event_id
        return events

    def notice(self, notice_id: UUID) -> NoticeState | None:
        return self.notices.get(notice_id)

    def record(self, outcomes: Sequence[Delivered | Failed]) -> int:
        """Record the outcomes of its pending notices: one event for those delivered, one for
        the failed attempts; answers how many notices it recorded."""
        pending = [o for o in outcomes if self._pending(o.ref.notice_id)]
        delivered = [o for o in pending if isinstance(o, Delivered)]
        failed = [o for o in pending if isinstance(o, Failed)]
        if delivered:
            self._delivered(
                deliveries=[
                    {
                        "notice_id": o.ref.notice_id,
                        "attempt": self.notices[o.ref.notice_id].attempts + 1,
                        "address": o.address,
                        "digest_key": o.digest_key,
                    }
                    for o in delivered
                ]
            )
        if failed:
            self._failed(failures=[self._failure(o) for o in failed])
        return len(pending)

    def _pending(self, notice_id: UUID) -> bool:
        notice = self.notices.get(notice_id)
        return notice is not None and notice.pending

    def _failure(self, outcome: Failed) -> dict[str, Any]:
        notice = self.notices[outcome.ref.notice_id]
        attempt = notice.attempts + 1
        dead = attempt - notice.attempts_before_requeue >= outcome.max_attempts
        return {
            "notice_id": notice.id,
            "attempt": attempt,
            "reason": outcome.reason[:REASON_LIMIT],
            "address": outcome.address,
            "dead_lettered": dead,
            "next_attempt_at": None if dead else outcome.now + outcome.retry_in,
        }

    @event(NotificationDelivered)
    def _delivered(self, deliveries: list[dict[str, Any]]) -> None:
        for delivery in deliveries:
            notice = self.notices[delivery["notice_id"]]
            notice.status = NoticeStatus.DELIVERED
            notice.attempts = delivery["attempt"]
            notice.next_attempt_at = None

    @event(NotificationFailed)
    def _failed(self, failures: list[dict[str, Any]]) -> None:
        for failure in failures:
            notice = self.notices[failure["notice_id"]]
            notice.attempts = failure["attempt"]
            notice.status = (
                NoticeStatus.DEAD_LETTERED if failure["dead_lettered"] else NoticeStatus.RETRYING
            )
            notice.next_attempt_at = failure["next_attempt_at"]

    def requeue(self, notice_id: UUID, by: str) -> None:
        """Queue a dead-lettered notice again (its receiver is fixed): sent at once, with its
        own idempotency key, and as many attempts again."""
        notice = self.notices[notice_id]
        if notice.status is not NoticeStatus.DEAD_LETTERED:
            raise NotDeadLettered(notice_id, notice.status.value)
        self._requeued(notice_id=notice_id, requeued_by=by, attempts_so_far=notice.attempts)

    @event("NotificationRequeued")
    def _requeued(self, notice_id: UUID, requeued_by: str, attempts_so_far: int) -> None:
        notice = self.notices[notice_id]
        notice.status = NoticeStatus.RETRYING
        notice.attempts_before_requeue = attempts_so_far
        notice.next_attempt_at = None

    def acknowledge(self, notice_id: UUID, by: str) -> bool:
        """The recipient has read it; False when they already had (acknowledging is idempotent)."""
        notice = self.notices[notice_id]
        if by != notice.person_id:
            raise NotTheRecipient(by)
        if notice.acknowledged_by:
            return False
        self._acknowledged(notice_id=notice_id, acknowledged_by=by)
        return True

    @event("NotificationAcknowledged")
    def _acknowledged(self, notice_id: UUID, acknowledged_by: str) -> None:
        self.notices[notice_id].acknowledged_by = acknowledged_by


def _queued(
    entry: Mapping[str, Any],
    contract_id: UUID,
    source_event_id: str,
    trigger: str,
    subject: str,
    text: str,
    data: dict[str, Any],
    urgent: bool,
) -> NoticeState:
    """One entry of a queued set, as its notice starts out."""
    return NoticeState(
        id=entry["notice_id"], contract_id=contract_id, key=entry["key"],
        source_event_id=source_event_id, trigger=trigger, person_id=entry["person_id"],
        channel=entry["channel"], subject=subject, text=text, data=data, urgent=urgent,
        status=NoticeStatus.QUEUED, next_attempt_at=entry["not_before"],
    )  # fmt: skip


def by_source(plans: Sequence[NoticePlan]) -> Mapping[str, list[NoticePlan]]:
    """Plans grouped by the source event they come from, in the order given."""
    grouped: dict[str, list[NoticePlan]] = {}
    for plan in plans:
        grouped.setdefault(plan.source_event_id, []).append(plan)
    return grouped
