"""In-app notifications: listed and acknowledged through the notifications service, and pushed
live as the read model sees them delivered."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any, TypeVar

import httpx
import strawberry
from pydantic import BaseModel, ValidationError
from strawberry.scalars import JSON
from strawberry.types import Info

from services.gateway.access import actor_of, role_on
from services.gateway.context import GatewayContext
from services.gateway.ids import id_argument, path, text_argument
from services.gateway.outcomes import code_for
from services.gateway.protection import Refused
from services.gateway.subscriptions import audit_rows_after
from services.gateway.types import jsonb

QUEUED = "accord.notifications.NotificationQueued.v1"
DELIVERED = "accord.notifications.NotificationDelivered.v1"
QUEUED_SET = "accord.notifications.NotificationQueued.v2"
DELIVERED_SET = "accord.notifications.NotificationDelivered.v2"
UNREADABLE = "the notifications service answered in a form the gateway cannot read"

Answer = TypeVar("Answer", bound=BaseModel)


@strawberry.type(description="A notice for the caller, shown in the app.")
class Notification:
    id: strawberry.ID
    contract_id: str
    trigger: str
    subject: str
    text: str
    urgent: bool
    data: JSON
    queued_at: datetime
    acknowledged_at: datetime | None


@strawberry.type(description="A notice on its way to someone of the contract, and how it went.")
class Delivery:
    notice_id: strawberry.ID
    person_id: str
    channel: str
    trigger: str
    subject: str
    # queued, retrying, delivered or dead_lettered
    status: str
    attempts: int
    last_reason: str = strawberry.field(description="Why the last attempt failed, if one did.")
    queued_at: datetime
    delivered_at: datetime | None


class NoticeAnswer(BaseModel):
    """One notice as the notifications service answers it (the fields the gateway shows)."""

    notice_id: str
    contract_id: str
    person_id: str
    channel: str
    trigger: str
    subject: str
    text: str
    urgent: bool
    data: Any = None
    status: str
    attempts: int
    last_reason: str
    queued_at: datetime
    delivered_at: datetime | None = None
    acknowledged_at: datetime | None = None


class NotificationsAnswer(BaseModel):
    notifications: list[NoticeAnswer]


class DeliveriesAnswer(BaseModel):
    notices: list[NoticeAnswer]


class Answered(BaseModel):
    """What a command answers; only that it is an object matters here."""


def _delivery(notice: NoticeAnswer) -> Delivery:
    return Delivery(
        notice_id=strawberry.ID(notice.notice_id), person_id=notice.person_id,
        channel=notice.channel, trigger=notice.trigger, subject=notice.subject,
        status=notice.status, attempts=notice.attempts, last_reason=notice.last_reason,
        queued_at=notice.queued_at, delivered_at=notice.delivered_at,
    )  # fmt: skip


def _of(notice: NoticeAnswer) -> Notification:
    return Notification(
        id=strawberry.ID(notice.notice_id), contract_id=notice.contract_id,
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
        response = await ctx.http.request(method, url, headers=headers, **kwargs)
    except httpx.TransportError:
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
    @strawberry.field(description="The caller's in-app notifications, newest first.")
    async def notifications(
        self,
        info: Info[GatewayContext, None],
        unread_only: bool = False,
        contract_id: strawberry.ID | None = None,
    ) -> list[Notification]:
        params = {"unread_only": str(unread_only).lower()}
        if contract_id is not None:
            params["contract_id"] = id_argument(contract_id, "contractId")
        answer = await _call(info.context, "GET", "/notifications", NotificationsAnswer, params=params)  # fmt: skip
        return [_of(n) for n in answer.notifications]

    @strawberry.field(
        description="Every notice of the contract and how its delivery went (account manager,"
        ' sponsor, auditor); `status: "dead_lettered"` finds those that failed every attempt.'
    )
    async def deliveries(
        self,
        info: Info[GatewayContext, None],
        contract_id: strawberry.ID,
        status: str | None = None,
    ) -> list[Delivery]:
        contract = id_argument(contract_id, "contractId")
        await role_on(info.context, contract)  # outsiders: FORBIDDEN, as everywhere
        params = {"status": text_argument(status, "status")} if status else {}
        where = path("/contracts/{contract_id}/deliveries", contract_id=contract)
        answer = await _call(info.context, "GET", where, DeliveriesAnswer, params=params)
        return [_delivery(n) for n in answer.notices]


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(description="Mark one of the caller's notifications as read.")
    async def acknowledge_notification(
        self, info: Info[GatewayContext, None], id: strawberry.ID
    ) -> bool:
        where = path("/notifications/{id}/acknowledge", id=id_argument(id))
        await _call(info.context, "POST", where, Answered, json={})
        return True

    @strawberry.mutation(
        description="Queue a dead-lettered notice again once its receiver works (account manager,"
        " sponsor): sent at once, with as many attempts as at first."
    )
    async def requeue_notice(
        self, info: Info[GatewayContext, None], contract_id: strawberry.ID, notice_id: strawberry.ID
    ) -> bool:
        contract, notice = (
            id_argument(contract_id, "contractId"),
            id_argument(notice_id, "noticeId"),
        )
        await role_on(info.context, contract)
        where = path(
            "/contracts/{contract_id}/deliveries/{notice_id}/requeue",
            contract_id=contract, notice_id=notice,
        )  # fmt: skip
        await _call(info.context, "POST", where, Answered, json={})
        return True


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
                    trigger=data["trigger"], subject=data["subject"], text=data["text"],
                    urgent=data["urgent"], data=data["data"], queued_at=row["occurred_at"],
                    acknowledged_at=None,
                )  # fmt: skip
