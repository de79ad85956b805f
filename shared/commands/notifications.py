"""The notifications service's commands: a person's notices, a contract's policies, a person's
way of being reached; and the closed sets they name (GraphQL shows each as an enum)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.commands.declaration import Body, Command
from shared.values import Duration, Integer, Text

SERVICE = "notifications"


class Trigger(StrEnum):
    """Something that happened on a contract that people should hear about."""

    EXPECTATION_PROPOSED = "expectation_proposed"
    EXPECTATION_REFINED = "expectation_refined"
    PRIORITIES_PUBLISHED = "priorities_published"
    OBLIGATION_PROPOSED = "obligation_proposed"
    OBLIGATION_DECIDED = "obligation_decided"
    RISK_DISCLOSED = "risk_disclosed"
    MEASUREMENT_MISSED = "measurement_missed"
    # A dated promise passed a threshold of its time, or its deadline, still open.
    DEADLINE_APPROACHING = "deadline_approaching"
    DEADLINE_MISSED = "deadline_missed"
    # A refinement made an item that rested on the earlier terms suspect until reviewed.
    LINK_SUSPECTED = "link_suspected"
    # One side named an auditor, who joins once the other side confirms them.
    AUDITOR_NOMINATED = "auditor_nominated"
    # Not a policy of its own: reminders go to whom obligation_proposed names, on its cadence.
    OBLIGATION_REMINDER = "obligation_reminder"


class Recipient(StrEnum):
    """Whom a policy notifies. A role names everyone on the contract in it; PROPOSERS names who
    proposed the thing concerned (the expectation, the obligation; for a risk, the expectations
    it affects, and every decision maker when it names none); NEEDED_FROM the client person an
    obligation is needed from; OWNER who owns the dated promise a deadline warning is about, or
    who put a suspect item on record; CONFIRMERS who could confirm the auditor a nomination
    names when it was made (the other side's appointers)."""

    CLIENT_DECISION_MAKER = "client_decision_maker"
    CLIENT_SPONSOR = "client_sponsor"
    PROVIDER_ACCOUNT_MANAGER = "provider_account_manager"
    PROVIDER_DELIVERY_LEAD = "provider_delivery_lead"
    AUDITOR = "auditor"
    PROPOSERS = "proposers"
    NEEDED_FROM = "needed_from"
    OWNER = "owner"
    CONFIRMERS = "confirmers"


class Channel(StrEnum):
    """How a person is reached."""

    EMAIL = "email"
    WEBHOOK = "webhook"
    IN_APP = "in_app"


class Cadence(StrEnum):
    """When a person's notices go out: each at once, or together once a day (urgent ones
    always at once)."""

    IMMEDIATE = "immediate"
    DAILY_DIGEST = "daily_digest"


class NoticeStatus(StrEnum):
    """Where a notice's delivery stands: DEAD_LETTERED once every attempt failed (requeue it
    when its receiver works again)."""

    QUEUED = "queued"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    DEAD_LETTERED = "dead_lettered"


class Policy(BaseModel):
    """Whether a trigger notifies, whom, how loudly, and (for obligations) how often to remind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    recipients: list[Recipient] = Field(default_factory=list)
    urgent: bool = Field(
        default=False, description="Urgent notices skip the daily digest: they go out at once."
    )
    # Positive durations, bounded so that no reminder time computed from them overflows.
    remind_every: Duration | None = Field(
        default=None,
        description="OBLIGATION_PROPOSED only: remind this often until the obligation is decided.",
    )
    remind_before_due: Duration | None = Field(
        default=None,
        description="OBLIGATION_PROPOSED only: remind once this long before the obligation is due.",
    )
    top: Integer | None = Field(
        default=None,
        ge=1,
        description="MEASUREMENT_MISSED only: a miss counts when it is on one of the top N"
        " corporate priorities.",
    )


class AcknowledgeNotification(Body):
    pass


class RequeueNotice(Body):
    pass


class ChangeNotificationPolicy(Body):
    trigger: Trigger = Field(
        description="The trigger whose policy changes (OBLIGATION_REMINDER follows"
        " OBLIGATION_PROPOSED's policy and has none of its own)."
    )
    policy: Policy


class ChangeNotificationPreferences(Body):
    person_id: Text | None = Field(
        default=None,
        description="Whose preferences: absent, the caller's own (only the provider's account"
        " manager chooses for someone else).",
    )
    channel: Channel
    cadence: Cadence = Cadence.IMMEDIATE
    email: Text = Field(
        default="", description="For email: overrides the address the contract knows."
    )
    webhook_url: Text = Field(default="", description="For webhook: where notices are posted.")


ACKNOWLEDGE_NOTIFICATION = Command(
    "acknowledge_notification", SERVICE, "/notifications/{notice_id}/acknowledge",
    AcknowledgeNotification, "Mark one of the caller's notifications as read.",
    events=("NotificationAcknowledged",),
)  # fmt: skip
REQUEUE_NOTICE = Command(
    "requeue_notice", SERVICE, "/contracts/{contract_id}/deliveries/{notice_id}/requeue",
    RequeueNotice, "Queue a dead-lettered notice again once its receiver works (account manager,"
    " sponsor): sent at once, with as many attempts as at first.",
    events=("NotificationRequeued",),
)  # fmt: skip
CHANGE_NOTIFICATION_POLICY = Command(
    "change_notification_policy", SERVICE, "/contracts/{contract_id}/policies",
    ChangeNotificationPolicy, "Change whom one trigger notifies on the contract, how loudly and"
    " how often it reminds (account manager, sponsor).",
    events=("PolicyChanged",),
)  # fmt: skip
CHANGE_NOTIFICATION_PREFERENCES = Command(
    "change_notification_preferences", SERVICE, "/contracts/{contract_id}/preferences",
    ChangeNotificationPreferences, "Choose how a person of the contract is reached: channel and"
    " cadence (their own, or anyone's for the provider's account manager).",
    events=("PreferencesChanged",),
)  # fmt: skip

COMMANDS: tuple[Command[Body], ...] = (
    ACKNOWLEDGE_NOTIFICATION, REQUEUE_NOTICE, CHANGE_NOTIFICATION_POLICY,
    CHANGE_NOTIFICATION_PREFERENCES,
)  # fmt: skip
