"""Notifications: a person's notices, a contract's deliveries, policies and preferences, read
from the notifications service; its commands as mutations (shared/commands/notifications.py);
in-app notices pushed live as the read model sees them delivered."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

import strawberry
import strawberry.experimental.pydantic
from pydantic import BaseModel, TypeAdapter, ValidationError
from strawberry.scalars import JSON
from strawberry.types import Info

from services.gateway.access import actor_of, role_on
from services.gateway.commands import Done, run
from services.gateway.context import GatewayContext
from services.gateway.ids import id_argument, path
from services.gateway.outcomes import Refusals, code_for
from services.gateway.pagination import Connection, Edge, decode_cursor, encode_cursor, page_size
from services.gateway.payloads import CONSISTENT, CREATED
from services.gateway.protection import Refused
from services.gateway.service_calls import Unreachable
from services.gateway.subscriptions import audit_rows_after
from services.gateway.types import jsonb
from shared.commands import notifications
from shared.commands.notifications import Cadence, Channel, NoticeStatus, Recipient, Trigger

QUEUED = "accord.notifications.NotificationQueued.v1"
DELIVERED = "accord.notifications.NotificationDelivered.v1"
QUEUED_SET = "accord.notifications.NotificationQueued.v2"
DELIVERED_SET = "accord.notifications.NotificationDelivered.v2"
UNREADABLE = "the notifications service answered in a form the gateway cannot read"

Answer = TypeVar("Answer", bound=BaseModel)

DURATION = strawberry.scalar(
    name="Duration",
    serialize=lambda value: TypeAdapter(timedelta).dump_python(value, mode="json"),
    parse_value=str,
    description="An ISO 8601 duration: P3D is three days, PT12H twelve hours.",
)

# The closed sets, named for GraphQL's one namespace (their Python names are the service's).
for closed_set, graphql_name in (
    (Trigger, "NotificationTrigger"),
    (Recipient, "NotificationRecipient"),
    (Channel, "NotificationChannel"),
    (Cadence, "NotificationCadence"),
    (NoticeStatus, "NoticeStatus"),
):
    strawberry.enum(
        closed_set, name=graphql_name, description=" ".join((closed_set.__doc__ or "").split())
    )


@strawberry.type(description="A notice for the caller, shown in the app.")
class Notification:
    id: strawberry.ID
    contract_id: strawberry.ID
    trigger: Trigger
    subject: str
    text: str
    urgent: bool
    data: JSON = strawberry.field(
        description="What the notice is about, as its trigger names it (ids, a due date...):"
        " open, because each trigger carries its own."
    )
    queued_at: datetime
    acknowledged_at: datetime | None


@strawberry.type(description="A notice on its way to someone of the contract, and how it went.")
class Delivery:
    notice_id: strawberry.ID
    person_id: str
    channel: Channel
    trigger: Trigger
    subject: str
    status: NoticeStatus
    attempts: int
    last_reason: str = strawberry.field(description="Why the last attempt failed, if one did.")
    queued_at: datetime
    delivered_at: datetime | None


class NoticeAnswer(BaseModel):
    """One notice as the notifications service answers it (the fields the gateway shows)."""

    notice_id: str
    key: str
    contract_id: str
    person_id: str
    channel: Channel
    trigger: Trigger
    subject: str
    text: str
    urgent: bool
    data: Any = None
    status: NoticeStatus
    attempts: int
    last_reason: str
    queued_at: datetime
    delivered_at: datetime | None = None
    acknowledged_at: datetime | None = None


class NotificationsAnswer(BaseModel):
    notifications: list[NoticeAnswer]
    more: bool


class UnreadAnswer(BaseModel):
    unread: int


class DeliveriesAnswer(BaseModel):
    notices: list[NoticeAnswer]
    more: bool


class PolicyAnswer(BaseModel):
    policy: notifications.Policy
    default: bool


class PoliciesAnswer(BaseModel):
    policies: dict[Trigger, PolicyAnswer]


class PreferenceAnswer(BaseModel):
    person_id: str
    default: bool
    channel: Channel
    cadence: Cadence
    email: str
    webhook_url: str


class PreferencesAnswer(BaseModel):
    preferences: list[PreferenceAnswer]


DEFAULT = "True while nobody has changed it on this contract."


@strawberry.type(description="How one trigger notifies people on a contract.")
class NotificationPolicy:
    trigger: Trigger
    enabled: bool
    recipients: list[Recipient]
    urgent: bool = strawberry.field(
        description="Urgent notices skip the daily digest: they go out at once."
    )
    remind_every: timedelta | None = strawberry.field(
        description="OBLIGATION_PROPOSED only: remind this often until the obligation is decided."
    )
    remind_before_due: timedelta | None = strawberry.field(
        description="OBLIGATION_PROPOSED only: remind once this long before the obligation is due."
    )
    top: int | None = strawberry.field(
        description="MEASUREMENT_MISSED only: a miss counts when it is on one of the top N"
        " corporate priorities."
    )
    default: bool = strawberry.field(description=DEFAULT)


@strawberry.type(description="How one person of a contract is reached.")
class NotificationPreference:
    person_id: str
    channel: Channel
    cadence: Cadence
    email: str = strawberry.field(
        description="For email: overrides the address the contract knows."
    )
    webhook_url: str
    default: bool = strawberry.field(description=DEFAULT)


def _policies(answer: PoliciesAnswer) -> list[NotificationPolicy]:
    return [
        NotificationPolicy(
            trigger=trigger,
            enabled=given.policy.enabled,
            recipients=list(given.policy.recipients),
            urgent=given.policy.urgent,
            remind_every=given.policy.remind_every,
            remind_before_due=given.policy.remind_before_due,
            top=given.policy.top,
            default=given.default,
        )
        for trigger, given in answer.policies.items()
    ]


def _preferences(answer: PreferencesAnswer) -> list[NotificationPreference]:
    return [
        NotificationPreference(
            person_id=p.person_id,
            channel=p.channel,
            cadence=p.cadence,
            email=p.email,
            webhook_url=p.webhook_url,
            default=p.default,
        )
        for p in answer.preferences
    ]


def _page(first: int, after: str | None, *, uuid_key: bool) -> dict[str, str]:
    """The service's page parameters: `first` items after the cursor `after`."""
    params = {"limit": str(page_size(first))}
    if after is not None:
        at, key = decode_cursor(after, uuid_key=uuid_key)
        params.update(after_at=at.isoformat(), after_key=key)
    return params


def _delivery(notice: NoticeAnswer) -> Delivery:
    return Delivery(
        notice_id=strawberry.ID(notice.notice_id), person_id=notice.person_id,
        channel=notice.channel, trigger=notice.trigger, subject=notice.subject,
        status=notice.status, attempts=notice.attempts, last_reason=notice.last_reason,
        queued_at=notice.queued_at, delivered_at=notice.delivered_at,
    )  # fmt: skip


def _of(notice: NoticeAnswer) -> Notification:
    return Notification(
        id=strawberry.ID(notice.notice_id), contract_id=strawberry.ID(notice.contract_id),
        trigger=notice.trigger, subject=notice.subject, text=notice.text,
        urgent=notice.urgent, data=notice.data, queued_at=notice.queued_at,
        acknowledged_at=notice.acknowledged_at,
    )  # fmt: skip


class ServiceRefusal(BaseModel):
    message: str


async def _call(
    ctx: GatewayContext, method: str, path: str, answer: type[Answer], **kwargs: Any
) -> Answer:
    """The service's answer as `answer`; anything else is a coded GraphQL error."""
    actor_of(ctx)
    url = ctx.settings.service_url("notifications") + path
    headers = {"authorization": ctx.authorization, "x-correlation-id": ctx.request_id}
    try:
        response = await ctx.services.request(method, url, headers=headers, **kwargs)
    except Unreachable:
        raise Refused("UNAVAILABLE", "the notifications service could not be reached") from None
    status = response.status_code
    try:
        if status == 200:
            return answer.model_validate_json(response.content)
        message = ServiceRefusal.model_validate_json(response.content).message
    except ValidationError:
        if status == 200:
            raise Refused("UNAVAILABLE", UNREADABLE) from None
        message = f"the notifications service answered {status}"
    raise Refused(code_for(status), message)


@strawberry.type
class NotificationQueries:
    @strawberry.field(
        description="The caller's in-app notifications, newest first; keyset-paginated."
    )
    async def notifications(
        self,
        info: Info[GatewayContext, None],
        unread_only: bool = False,
        contract_id: strawberry.ID | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Notification]:
        params = {"unread_only": str(unread_only).lower(), **_page(first, after, uuid_key=True)}
        if contract_id is not None:
            params["contract_id"] = id_argument(contract_id, "contractId")
        answer = await _call(info.context, "GET", "/notifications", NotificationsAnswer, params=params)  # fmt: skip
        edges = [
            Edge(cursor=encode_cursor(n.queued_at, n.notice_id), node=_of(n))
            for n in answer.notifications
        ]
        return Connection.page(edges, more=answer.more, after=after)

    @strawberry.field(
        description="How many of the caller's in-app notifications are unread (of one contract"
        " with `contractId`): an inbox's badge."
    )
    async def unread_notification_count(
        self, info: Info[GatewayContext, None], contract_id: strawberry.ID | None = None
    ) -> int:
        params = (
            {} if contract_id is None else {"contract_id": id_argument(contract_id, "contractId")}
        )
        answer = await _call(info.context, "GET", "/notifications/unread", UnreadAnswer, params=params)  # fmt: skip
        return answer.unread

    @strawberry.field(
        description="Every notice of the contract and how its delivery went (account manager,"
        " sponsor, auditor), oldest first, keyset-paginated; `status: DEAD_LETTERED` finds"
        " those that failed every attempt."
    )
    async def deliveries(
        self,
        info: Info[GatewayContext, None],
        contract_id: strawberry.ID,
        status: NoticeStatus | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[Delivery]:
        contract = id_argument(contract_id, "contractId")
        await role_on(info.context, contract)  # outsiders: FORBIDDEN, as everywhere
        params = _page(first, after, uuid_key=False)
        if status:
            params["status"] = status.value
        where = path("/contracts/{contract_id}/deliveries", contract_id=contract)
        answer = await _call(info.context, "GET", where, DeliveriesAnswer, params=params)
        edges = [
            Edge(cursor=encode_cursor(n.queued_at, n.key), node=_delivery(n))
            for n in answer.notices
        ]
        return Connection.page(edges, more=answer.more, after=after)

    @strawberry.field(description="How each trigger notifies people on the contract.")
    async def notification_policies(
        self, info: Info[GatewayContext, None], contract_id: strawberry.ID
    ) -> list[NotificationPolicy]:
        contract = id_argument(contract_id, "contractId")
        await role_on(info.context, contract)
        return await _contract_policies(info.context, contract)

    @strawberry.field(
        description="How the caller is reached on the contract (everyone, for the account"
        " manager and the sponsor)."
    )
    async def notification_preferences(
        self, info: Info[GatewayContext, None], contract_id: strawberry.ID
    ) -> list[NotificationPreference]:
        contract = id_argument(contract_id, "contractId")
        await role_on(info.context, contract)
        return await _contract_preferences(info.context, contract)


async def _contract_policies(ctx: GatewayContext, contract: str) -> list[NotificationPolicy]:
    where = path("/contracts/{contract_id}/policies", contract_id=contract)
    return _policies(await _call(ctx, "GET", where, PoliciesAnswer))


async def _contract_preferences(ctx: GatewayContext, contract: str) -> list[NotificationPreference]:
    where = path("/contracts/{contract_id}/preferences", contract_id=contract)
    return _preferences(await _call(ctx, "GET", where, PreferencesAnswer))


# The commands' inputs follow from their body models, with the ids their routes name.


# A command with an empty body takes only the ids its route names (strawberry derives no input
# from a model without fields).
@strawberry.input
class AcknowledgeNotificationInput:
    notice_id: strawberry.ID


@strawberry.input
class RequeueNoticeInput:
    contract_id: strawberry.ID
    notice_id: strawberry.ID


@strawberry.experimental.pydantic.input(model=notifications.Policy, all_fields=True)
class NotificationPolicyInput:
    pass


@strawberry.experimental.pydantic.input(
    model=notifications.ChangeNotificationPolicy, all_fields=True
)
class ChangeNotificationPolicyInput:
    contract_id: strawberry.ID


@strawberry.experimental.pydantic.input(
    model=notifications.ChangeNotificationPreferences, all_fields=True
)
class ChangeNotificationPreferencesInput:
    contract_id: strawberry.ID


RECORD_VERSION = (
    "The version of the record that holds the notice (the notices of one source share one)."
)


@strawberry.type
class NotificationChanged:
    notification: Notification | None
    version: int = strawberry.field(description=RECORD_VERSION)
    consistent: bool = strawberry.field(description=CONSISTENT)
    created: strawberry.ID | None = strawberry.field(default=None, description=CREATED)


@strawberry.type
class DeliveryChanged:
    delivery: Delivery | None
    version: int = strawberry.field(description=RECORD_VERSION)
    consistent: bool = strawberry.field(description=CONSISTENT)
    created: strawberry.ID | None = strawberry.field(default=None, description=CREATED)


@strawberry.type
class NotificationPoliciesChanged:
    contract_id: strawberry.ID
    policies: list[NotificationPolicy] = strawberry.field(
        description="Every policy of the contract, the changed one included."
    )
    version: int
    consistent: bool = strawberry.field(description=CONSISTENT)
    created: strawberry.ID | None = strawberry.field(default=None, description=CREATED)


@strawberry.type
class NotificationPreferencesChanged:
    contract_id: strawberry.ID
    preferences: list[NotificationPreference] = strawberry.field(
        description="The preferences the caller may see on the contract, the changed one included."
    )
    version: int
    consistent: bool = strawberry.field(description=CONSISTENT)
    created: strawberry.ID | None = strawberry.field(default=None, description=CREATED)


NotificationResult = Annotated[
    NotificationChanged | Refusals, strawberry.union("NotificationResult")
]
DeliveryResult = Annotated[DeliveryChanged | Refusals, strawberry.union("DeliveryResult")]
NotificationPoliciesResult = Annotated[
    NotificationPoliciesChanged | Refusals, strawberry.union("NotificationPoliciesResult")
]
NotificationPreferencesResult = Annotated[
    NotificationPreferencesChanged | Refusals, strawberry.union("NotificationPreferencesResult")
]

# What a command changed, read back from the service, which answers a command only once its
# own tables show it.


async def notification_changed(ctx: GatewayContext, done: Done) -> NotificationChanged:
    where = path("/notifications/{notice_id}", notice_id=done.key)
    found = _of(await _call(ctx, "GET", where, NoticeAnswer))
    return NotificationChanged(
        notification=found, version=done.version, consistent=done.consistent, created=done.created
    )


def delivery_changed(contract: str) -> Callable[[GatewayContext, Done], Awaitable[DeliveryChanged]]:
    async def show(ctx: GatewayContext, done: Done) -> DeliveryChanged:
        where = path(
            "/contracts/{contract_id}/deliveries/{notice_id}",
            contract_id=contract, notice_id=done.key,
        )  # fmt: skip
        found = _delivery(await _call(ctx, "GET", where, NoticeAnswer))
        return DeliveryChanged(
            delivery=found, version=done.version, consistent=done.consistent, created=done.created
        )

    return show


async def policies_changed(ctx: GatewayContext, done: Done) -> NotificationPoliciesChanged:
    return NotificationPoliciesChanged(
        contract_id=strawberry.ID(done.key), policies=await _contract_policies(ctx, done.key),
        version=done.version, consistent=done.consistent, created=done.created,
    )  # fmt: skip


async def preferences_changed(ctx: GatewayContext, done: Done) -> NotificationPreferencesChanged:
    return NotificationPreferencesChanged(
        contract_id=strawberry.ID(done.key), preferences=await _contract_preferences(ctx, done.key),
        version=done.version, consistent=done.consistent, created=done.created,
    )  # fmt: skip


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(description=notifications.ACKNOWLEDGE_NOTIFICATION.description)
    async def acknowledge_notification(
        self, info: Info[GatewayContext, None], input: AcknowledgeNotificationInput
    ) -> NotificationResult:
        return await run(
            info, notifications.ACKNOWLEDGE_NOTIFICATION, input, notification_changed,
            shows="notice_id",
        )  # fmt: skip

    @strawberry.mutation(description=notifications.REQUEUE_NOTICE.description)
    async def requeue_notice(
        self, info: Info[GatewayContext, None], input: RequeueNoticeInput
    ) -> DeliveryResult:
        show = delivery_changed(str(input.contract_id))
        return await run(info, notifications.REQUEUE_NOTICE, input, show, shows="notice_id")

    @strawberry.mutation(description=notifications.CHANGE_NOTIFICATION_POLICY.description)
    async def change_notification_policy(
        self, info: Info[GatewayContext, None], input: ChangeNotificationPolicyInput
    ) -> NotificationPoliciesResult:
        return await run(
            info, notifications.CHANGE_NOTIFICATION_POLICY, input, policies_changed,
            shows="contract_id",
        )  # fmt: skip

    @strawberry.mutation(description=notifications.CHANGE_NOTIFICATION_PREFERENCES.description)
    async def change_notification_preferences(
        self, info: Info[GatewayContext, None], input: ChangeNotificationPreferencesInput
    ) -> NotificationPreferencesResult:
        return await run(
            info, notifications.CHANGE_NOTIFICATION_PREFERENCES, input, preferences_changed,
            shows="contract_id",
        )  # fmt: skip


@strawberry.type
class NotificationSubscriptions:
    @strawberry.subscription(description="The caller's in-app notifications as they are delivered.")
    async def notifications(
        self, info: Info[GatewayContext, None]
    ) -> AsyncGenerator[Notification, None]:
        ctx = info.context
        person = actor_of(ctx).subject
        rows = audit_rows_after(
            ctx,
            "SELECT d.position, q.data, q.occurred_at FROM audit_log d JOIN audit_log q"
            " ON q.event_type = $3 AND q.data->>'notice_id' = d.data->>'notice_id'"
            " WHERE d.position > $1 AND d.event_type = $4"
            " AND q.data->>'person_id' = $2 AND q.data->>'channel' = 'in_app'"
            # v2: one event queues a source's notices, one records a set's deliveries.
            " UNION ALL SELECT d.position,"
            " (q.data - 'notices') || jsonb_build_object('notice_id', n->>'notice_id'),"
            " q.occurred_at FROM audit_log d"
            " CROSS JOIN LATERAL jsonb_array_elements(d.data->'deliveries') AS delivered"
            " JOIN audit_log q ON q.event_type = $5 AND q.subject = d.subject"
            " CROSS JOIN LATERAL jsonb_array_elements(q.data->'notices') AS n"
            " WHERE d.position > $1 AND d.event_type = $6"
            " AND n->>'notice_id' = delivered->>'notice_id'"
            " AND n->>'person_id' = $2 AND n->>'channel' = 'in_app'"
            " ORDER BY position",
            person, QUEUED, DELIVERED, QUEUED_SET, DELIVERED_SET,
        )  # fmt: skip
        async with contextlib.aclosing(rows):
            async for row in rows:
                data = jsonb(row["data"])
                yield Notification(
                    id=strawberry.ID(data["notice_id"]), contract_id=data["contract_id"],
                    trigger=Trigger(data["trigger"]), subject=data["subject"], text=data["text"],
                    urgent=data["urgent"], data=data["data"], queued_at=row["occurred_at"],
                    acknowledged_at=None,
                )  # fmt: skip
