"""Published contracts of the notifications service (topic accord.notifications.v1).

Every event carries `contract_id`, the Kafka key. Since v2 the notices one source event gives
are queued in ONE `NotificationQueued.v2` (its `ce_subject` names the set, the notices are
listed in it), and one attempt's outcomes on several of them are one `NotificationDelivered.v2`
or `NotificationFailed.v2`; requeueing and acknowledging stay one v1 event per notice. Notices
queued before v2 keep their v1 events (one notice each), still published as they were.

A notice's `key` is its idempotency key (source event id : person : channel); webhooks carry it
in the `Idempotency-Key` header and emails in their Message-ID, so receivers can drop a repeat.
Times are RFC 3339; durations in policies are ISO 8601 (P3D, PT12H).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from shared.commands.notifications import Trigger
from shared.schemas.registry import EventContract, contract

SERVICE = "notifications"
# Triggers: the service's closed set (shared/commands/notifications.py), one list for the
# commands, the events and the schema, so a new trigger can never be stored and then refused
# by its own event's contract.

Channel = Literal["email", "webhook", "in_app"]
Cadence = Literal["immediate", "daily_digest"]
ReminderKind = Literal["every", "before_due"]

# Ids shared by the examples, so they read as one story.
_CONTRACT = "6f1c2b9e-4d3a-4f5e-9a7b-1c2d3e4f5a6b"
_NOTICE = "b1c2d3e4-f5a6-5b7c-8d9e-0f1a2b3c4d5e"
_EVENT = "c2d3e4f5-a6b7-5c8d-9e0f-1a2b3c4d5e6f"
_OBLIGATION = "3b4c5d6e-7f8a-4b9c-8d1e-2f3a4b5c6d7e"
_REMINDER = "d3e4f5a6-b7c8-5d9e-8f1a-2b3c4d5e6f7a"
_PERSON = "li.wei@harbour.example"
_KEY = f"{_EVENT}:{_PERSON}:email"
_OTHER_NOTICE = "e4f5a6b7-c8d9-5e0f-9a1b-3c4d5e6f7a8b"
_OTHER_PERSON = "amira.khan@northgate.example"


@contract(
    SERVICE,
    "NotificationQueued",
    example={
        "contract_id": _CONTRACT,
        "notice_id": _NOTICE,
        "key": _KEY,
        "source_event_id": _EVENT,
        "trigger": "obligation_proposed",
        "person_id": _PERSON,
        "channel": "email",
        "subject": "Decision needed by 2025-03-15: Remote access to the WMS",
        "text": "Amira Khan needs this from Li Wei by 2025-03-15: Remote access to the WMS.",
        "data": {"obligation_id": _OBLIGATION, "due_on": "2025-03-15"},
        "urgent": False,
        "not_before": None,
    },
)
class NotificationQueuedV1(EventContract):
    """A notice was queued for one person on one channel, once per idempotency key (before v2:
    one event per notice)."""

    contract_id: UUID
    notice_id: UUID
    key: str
    # The published event (its ce_id) or the reminder the notice is about.
    source_event_id: str
    trigger: Trigger
    person_id: str
    channel: Channel
    subject: str
    text: str
    data: dict[str, Any]
    # Urgent notices (a missed target on a top priority) never wait for a digest.
    urgent: bool
    # Held until then for the person's daily digest; null means at once.
    not_before: datetime | None


@contract(
    SERVICE,
    "NotificationDelivered",
    example={
        "contract_id": _CONTRACT,
        "notice_id": _NOTICE,
        "attempt": 1,
        "address": _PERSON,
        "digest_key": "",
    },
)
class NotificationDeliveredV1(EventContract):
    """A notice reached its person (accepted by the SMTP server or webhook, or stored in-app)."""

    contract_id: UUID
    notice_id: UUID
    attempt: int
    # The email address or webhook URL it went to ("in-app" for in-app notices).
    address: str
    # Set when a daily digest carried it: the digest's own idempotency key.
    digest_key: str


@contract(
    SERVICE,
    "NotificationFailed",
    example={
        "contract_id": _CONTRACT,
        "notice_id": _NOTICE,
        "attempt": 2,
        "reason": "webhook answered HTTP 503",
        "address": "https://hooks.harbour.example/accord",
        "dead_lettered": False,
        "next_attempt_at": "2025-03-01T09:02:00+00:00",
    },
)
class NotificationFailedV1(EventContract):
    """An attempt failed, with the reason; dead-lettered when it was the last one allowed."""

    contract_id: UUID
    notice_id: UUID
    attempt: int
    reason: str
    address: str
    dead_lettered: bool
    next_attempt_at: datetime | None


class PlannedNotice(EventContract):
    """One notice of a set: one person on one channel."""

    notice_id: UUID
    key: str
    person_id: str
    channel: Channel
    # Held until then for the person's daily digest; null means at once.
    not_before: datetime | None


@contract(
    SERVICE,
    "NotificationQueued",
    2,
    example={
        "contract_id": _CONTRACT,
        "source_event_id": _EVENT,
        "trigger": "obligation_proposed",
        "subject": "Decision needed by 2025-03-15: Remote access to the WMS",
        "text": "Amira Khan needs this from Li Wei by 2025-03-15: Remote access to the WMS.",
        "data": {"obligation_id": _OBLIGATION, "due_on": "2025-03-15"},
        "urgent": False,
        "notices": [
            {
                "notice_id": _NOTICE,
                "key": _KEY,
                "person_id": _PERSON,
                "channel": "email",
                "not_before": None,
            },
            {
                "notice_id": _OTHER_NOTICE,
                "key": f"{_EVENT}:{_OTHER_PERSON}:in_app",
                "person_id": _OTHER_PERSON,
                "channel": "in_app",
                "not_before": None,
            },
        ],
    },
)
class NotificationQueuedV2(EventContract):
    """The notices one source event (or due reminder) gave, queued together: who is told, on
    which channel, and what. Queued once per source; each notice once per idempotency key."""

    contract_id: UUID
    source_event_id: str
    trigger: Trigger
    subject: str
    text: str
    data: dict[str, Any]
    urgent: bool
    notices: list[PlannedNotice]


class NoticeDelivery(EventContract):
    """One notice that reached its person."""

    notice_id: UUID
    attempt: int
    address: str
    # Set when a daily digest carried it: the digest's own idempotency key.
    digest_key: str


@contract(
    SERVICE,
    "NotificationDelivered",
    2,
    example={
        "contract_id": _CONTRACT,
        "deliveries": [
            {"notice_id": _NOTICE, "attempt": 1, "address": _PERSON, "digest_key": ""},
            {"notice_id": _OTHER_NOTICE, "attempt": 1, "address": "in-app", "digest_key": ""},
        ],
    },
)
class NotificationDeliveredV2(EventContract):
    """Notices of one set reached their people (accepted by the SMTP server or webhook, or
    stored in-app), recorded together."""

    contract_id: UUID
    deliveries: list[NoticeDelivery]


class NoticeFailure(EventContract):
    """One notice's failed attempt; dead-lettered when it was the last one allowed."""

    notice_id: UUID
    attempt: int
    reason: str
    address: str
    dead_lettered: bool
    next_attempt_at: datetime | None


@contract(
    SERVICE,
    "NotificationFailed",
    2,
    example={
        "contract_id": _CONTRACT,
        "failures": [
            {
                "notice_id": _NOTICE,
                "attempt": 2,
                "reason": "webhook answered HTTP 503",
                "address": "https://hooks.harbour.example/accord",
                "dead_lettered": False,
                "next_attempt_at": "2025-03-01T09:02:00+00:00",
            }
        ],
    },
)
class NotificationFailedV2(EventContract):
    """Attempts on notices of one set failed, each with its reason, recorded together."""

    contract_id: UUID
    failures: list[NoticeFailure]


@contract(
    SERVICE,
    "NotificationRequeued",
    example={
        "contract_id": _CONTRACT,
        "notice_id": _NOTICE,
        "requeued_by": _PERSON,
        "attempts_so_far": 6,
    },
)
class NotificationRequeuedV1(EventContract):
    """A dead-lettered notice was queued again by hand (its receiver works again): it is sent
    at once with its own idempotency key, and has as many attempts as at first."""

    contract_id: UUID
    notice_id: UUID
    requeued_by: str
    attempts_so_far: int


@contract(
    SERVICE,
    "NotificationAcknowledged",
    example={"contract_id": _CONTRACT, "notice_id": _NOTICE, "acknowledged_by": _PERSON},
)
class NotificationAcknowledgedV1(EventContract):
    """The recipient marked a notice as read."""

    contract_id: UUID
    notice_id: UUID
    acknowledged_by: str


@contract(
    SERVICE,
    "ReminderScheduled",
    example={
        "contract_id": _CONTRACT,
        "reminder_id": _REMINDER,
        "obligation_id": _OBLIGATION,
        "kind": "every",
        "sequence": 1,
        "due_at": "2025-03-04T09:00:00+00:00",
        "repeat_every_seconds": 259200.0,
    },
)
class ReminderScheduledV1(EventContract):
    """A reminder about an undecided obligation will go out at `due_at`."""

    contract_id: UUID
    reminder_id: UUID
    obligation_id: UUID
    kind: ReminderKind
    sequence: int
    due_at: datetime
    # For a repeating reminder: the next one follows this long after.
    repeat_every_seconds: float | None


@contract(
    SERVICE,
    "ReminderFired",
    example={
        "contract_id": _CONTRACT,
        "reminder_id": _REMINDER,
        "obligation_id": _OBLIGATION,
        "sequence": 1,
    },
)
class ReminderFiredV1(EventContract):
    """A reminder went out: its notices were queued, keyed by the reminder's id."""

    contract_id: UUID
    reminder_id: UUID
    obligation_id: UUID
    sequence: int


@contract(
    SERVICE,
    "ReminderCancelled",
    example={
        "contract_id": _CONTRACT,
        "reminder_id": _REMINDER,
        "obligation_id": _OBLIGATION,
        "reason": "the obligation was accepted",
    },
)
class ReminderCancelledV1(EventContract):
    """A reminder will not go out: the obligation was decided."""

    contract_id: UUID
    reminder_id: UUID
    obligation_id: UUID
    reason: str


@contract(
    SERVICE,
    "PolicyChanged",
    example={
        "contract_id": _CONTRACT,
        "trigger": "obligation_proposed",
        "policy": {
            "enabled": True,
            "recipients": ["client_decision_maker", "needed_from"],
            "urgent": False,
            "remind_every": "P2D",
            "remind_before_due": "P1D",
            "top": None,
        },
        "changed_by": "amira.khan@northgate.example",
    },
)
class PolicyChangedV1(EventContract):
    """A contract's policy for one trigger changed: whom it notifies, how loudly, how often."""

    contract_id: UUID
    trigger: Trigger
    policy: dict[str, Any]
    changed_by: str


@contract(
    SERVICE,
    "PreferencesChanged",
    example={
        "contract_id": _CONTRACT,
        "person_id": _PERSON,
        "channel": "webhook",
        "cadence": "immediate",
        "email": "",
        "webhook_url": "https://hooks.harbour.example/accord",
        "changed_by": _PERSON,
    },
)
class PreferencesChangedV1(EventContract):
    """How a person wants to be reached on a contract: channel, cadence, own address."""

    contract_id: UUID
    person_id: str
    channel: Channel
    cadence: Cadence
    email: str
    webhook_url: str
    changed_by: str
