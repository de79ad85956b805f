"""What the notifications service refuses: named errors with a stable code and a clear message."""

from __future__ import annotations

from uuid import UUID

from shared.errors import AccordError


class NotificationError(AccordError):
    """A request about notices, policies or preferences that the rules refuse."""

    code = "NOTIFICATION_ERROR"


class UnknownNotice(NotificationError):
    code = "UNKNOWN_NOTICE"

    def __init__(self, notice_id: UUID) -> None:
        super().__init__(f"There is no notice {notice_id}.", notice_id=str(notice_id))


class NoticeBusy(NotificationError):
    """Others changed the notice's record at every try of the command (its other recipients
    acknowledging, its deliveries being recorded): nothing was changed; send it again."""

    code = "CONFLICT"
    http_status = 409

    def __init__(self, notice_id: UUID) -> None:
        super().__init__(
            f"Notice {notice_id} was changed by others at the same time, again and again;"
            " nothing was changed: send the command again.",
            notice_id=str(notice_id),
        )


class UnknownReminder(NotificationError):
    code = "UNKNOWN_REMINDER"

    def __init__(self, reminder_id: UUID) -> None:
        super().__init__(f"There is no reminder {reminder_id}.", reminder_id=str(reminder_id))


class NotTheRecipient(NotificationError):
    """Only the person a notice was for may acknowledge it."""

    code = "NOT_PERMITTED"

    def __init__(self, person: str) -> None:
        super().__init__(f"{person} may not acknowledge a notice sent to someone else.")


class NotAllowed(NotificationError):
    """The caller's role on the contract does not allow this."""

    code = "NOT_PERMITTED"

    def __init__(self, person: str, act: str) -> None:
        super().__init__(f"{person} may not {act}.", person=person)


class NotOnContract(NotificationError):
    """The service has not heard of this person on this contract (yet)."""

    code = "UNKNOWN_PARTICIPANT"

    def __init__(self, person: str, contract_id: str) -> None:
        super().__init__(
            f"{person} is not a participant of contract {contract_id} as far as notifications "
            "knows; if they just joined, try again in a moment.",
            person=person,
            contract_id=contract_id,
        )


class AlreadyDelivered(NotificationError):
    """A delivered notice is never sent, failed or delivered again."""

    code = "ALREADY_DELIVERED"
    http_status = 409

    def __init__(self, notice_id: UUID) -> None:
        super().__init__(f"Notice {notice_id} was already delivered.", notice_id=str(notice_id))


class DeadLettered(NotificationError):
    """A notice that failed every attempt is no longer retried."""

    code = "DEAD_LETTERED"
    http_status = 409

    def __init__(self, notice_id: UUID) -> None:
        super().__init__(
            f"Notice {notice_id} failed every attempt and was dead-lettered.",
            notice_id=str(notice_id),
        )


class NotDeadLettered(NotificationError):
    """Only a notice that failed every attempt may be queued again by hand."""

    code = "NOT_DEAD_LETTERED"
    http_status = 409

    def __init__(self, notice_id: UUID, status: str) -> None:
        super().__init__(
            f"Notice {notice_id} is {status}: only a dead-lettered notice is queued again.",
            notice_id=str(notice_id),
            status=status,
        )


class ReminderNotPending(NotificationError):
    """A reminder fires once, and never after it was cancelled."""

    code = "REMINDER_NOT_PENDING"
    http_status = 409

    def __init__(self, reminder_id: UUID, status: str) -> None:
        super().__init__(f"Reminder {reminder_id} is {status}.", reminder_id=str(reminder_id))


class InvalidPreference(NotificationError):
    """A channel that cannot work as given (a webhook without a URL, a bad address)."""

    code = "INVALID_PREFERENCE"
