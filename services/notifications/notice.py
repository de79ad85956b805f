"""The Notice aggregate: one notice to one person on one channel, queued, then delivered or not."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from services.notifications.errors import (
    AlreadyDelivered,
    DeadLettered,
    NotDeadLettered,
    NotTheRecipient,
)
from services.notifications.planner import NoticePlan
from shared.commands.notifications import NoticeStatus
from shared.eventstore import AccordAggregate

# Longer reasons (a whole HTML error page) are cut: the record says why, not everything.
REASON_LIMIT = 500

__all__ = ["REASON_LIMIT", "Notice", "NoticeStatus"]


class Notice(AccordAggregate):
    """Its id is a function of its idempotency key, so it can be queued only once."""

    @staticmethod
    def create_id(notice_id: UUID) -> UUID:
        return notice_id

    @classmethod
    def queue(cls, plan: NoticePlan, not_before: datetime | None = None) -> Notice:
        notice = cls(
            notice_id=plan.notice_id,
            contract_id=plan.contract_id,
            key=plan.key,
            source_event_id=plan.source_event_id,
            trigger=plan.trigger.value,
            person_id=plan.person_id,
            channel=plan.channel.value,
            subject=plan.subject,
            text=plan.text,
            data=dict(plan.data),
            urgent=plan.urgent,
            not_before=not_before,
        )
        notice.carry_trace(plan.traceparent)
        return notice

    @event("NotificationQueued")
    def __init__(
        self,
        notice_id: UUID,
        contract_id: UUID,
        key: str,
        source_event_id: str,
        trigger: str,
        person_id: str,
        channel: str,
        subject: str,
        text: str,
        data: dict[str, Any],
        urgent: bool,
        not_before: datetime | None,
    ) -> None:
        self._contract_id = contract_id
        self.key = key
        self.source_event_id = source_event_id
        self.trigger = trigger
        self.person_id = person_id
        self.channel = channel
        self.subject = subject
        self.text = text
        self.data = data
        self.urgent = urgent
        self.status = NoticeStatus.QUEUED
        self.attempts = 0
        # A digest notice waits for its digest; a failed one for its next attempt.
        self.next_attempt_at = not_before
        self.acknowledged_by = ""
        # Attempts made before it was last queued again by hand: each requeue allows as many
        # attempts as the first queueing did.
        self.attempts_before_requeue = 0

    @property
    def contract_id(self) -> UUID:
        return self._contract_id

    @property
    def pending(self) -> bool:
        """Neither delivered nor dead-lettered: there is an attempt still to make."""
        return self.status in (NoticeStatus.QUEUED, NoticeStatus.RETRYING)

    def is_due(self, now: datetime) -> bool:
        """Still to be sent, and its time has come."""
        return self.pending and (self.next_attempt_at is None or self.next_attempt_at <= now)

    def _check_pending(self) -> None:
        if self.status is NoticeStatus.DELIVERED:
            raise AlreadyDelivered(self.id)
        if self.status is NoticeStatus.DEAD_LETTERED:
            raise DeadLettered(self.id)

    def deliver(self, address: str, digest_key: str = "") -> None:
        """Record that it reached the person; after this it is never sent again."""
        self._check_pending()
        self._delivered(
            notice_id=self.id, attempt=self.attempts + 1, address=address, digest_key=digest_key
        )

    @event("NotificationDelivered")
    def _delivered(self, notice_id: UUID, attempt: int, address: str, digest_key: str) -> None:
        self.status = NoticeStatus.DELIVERED
        self.attempts = attempt
        self.next_attempt_at = None

    def fail(
        self, reason: str, address: str, now: datetime, retry_in: timedelta, max_attempts: int
    ) -> None:
        """Record a failed attempt and when to try again; the last allowed one dead-letters it."""
        self._check_pending()
        attempt = self.attempts + 1
        dead = attempt - self.attempts_before_requeue >= max_attempts
        self._failed(
            notice_id=self.id,
            attempt=attempt,
            reason=reason[:REASON_LIMIT],
            address=address,
            dead_lettered=dead,
            next_attempt_at=None if dead else now + retry_in,
        )

    @event("NotificationFailed")
    def _failed(
        self,
        notice_id: UUID,
        attempt: int,
        reason: str,
        address: str,
        dead_lettered: bool,
        next_attempt_at: datetime | None,
    ) -> None:
        self.attempts = attempt
        self.status = NoticeStatus.DEAD_LETTERED if dead_lettered else NoticeStatus.RETRYING
        self.next_attempt_at = next_attempt_at

    def requeue(self, by: str) -> None:
        """Queue a dead-lettered notice again (its receiver is fixed): it is sent at once, with
        its own idempotency key, and has as many attempts again."""
        if self.status is not NoticeStatus.DEAD_LETTERED:
            raise NotDeadLettered(self.id, self.status.value)
        self._requeued(notice_id=self.id, requeued_by=by, attempts_so_far=self.attempts)

    @event("NotificationRequeued")
    def _requeued(self, notice_id: UUID, requeued_by: str, attempts_so_far: int) -> None:
        self.status = NoticeStatus.RETRYING
        self.attempts_before_requeue = attempts_so_far
        self.next_attempt_at = None

    def acknowledge(self, by: str) -> bool:
        """The recipient has read it; False when they already had (acknowledging is idempotent)."""
        if by != self.person_id:
            raise NotTheRecipient(by)
        if self.acknowledged_by:
            return False
        self._acknowledged(notice_id=self.id, acknowledged_by=by)
        return True

    @event("NotificationAcknowledged")
    def _acknowledged(self, notice_id: UUID, acknowledged_by: str) -> None:
        self.acknowledged_by = acknowledged_by
