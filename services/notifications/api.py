"""The notifications service's HTTP endpoints: in-app notices, policies, preferences, deliveries.

Notices themselves are queued by the service from the events it consumes; people read their
in-app notices, acknowledge them, choose how they are reached, and (account managers and
sponsors) set each contract's policies and watch its deliveries.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute

from services.notifications import reads, tables
from services.notifications.application import Notifications
from services.notifications.channels.destinations import ClosedDestination, check_url
from services.notifications.channels.smtp import valid_address
from services.notifications.contract_view import TOPICS, batching, handler
from services.notifications.errors import (
    InvalidPreference,
    NotAllowed,
    NotOnContract,
    UnknownNotice,
)
from services.notifications.metrics import notices_waiting
from services.notifications.notice import NoticeStatus
from services.notifications.policies import POLICY_TRIGGERS, default_policies, policy_for
from services.notifications.preferences import Preference, default_preference
from services.notifications.settings import NotifySettings
from services.notifications.workers import Workers, with_workers
from shared.auth import Actor
from shared.bus import Bus
from shared.commands import notifications
from shared.commands.notifications import (
    AcknowledgeNotification,
    ChangeNotificationPolicy,
    ChangeNotificationPreferences,
    Channel,
    RequeueNotice,
    Trigger,
)
from shared.errors import InvalidInput
from shared.http import query, route
from shared.metrics import Reading
from shared.projection import BatchResult
from shared.runtime import ServiceRuntime
from shared.service_app import (
    View,
    found_in_views,
    runtime_of,
    service_app,
    views_of,
    views_pool,
)
from shared.settings import Settings

log = logging.getLogger(__name__)

SERVICE = notifications.SERVICE
# Who may set how a contract notifies (and queue its dead-lettered notices again), and who
# may watch its deliveries.
POLICY_SETTERS = {"provider_account_manager", "client_sponsor"}
WATCHERS = {"provider_account_manager", "client_sponsor", "auditor"}
# A page of a list: items unless the caller asks for fewer, and at most.
DEFAULT_PAGE = 100
MAX_PAGE = 500
# Who may choose the channel of someone else (e.g. an enterprise system's webhook).
PREFERENCE_SETTERS = {"provider_account_manager"}


def _runtime(request: Request) -> ServiceRuntime[Notifications]:
    runtime: ServiceRuntime[Notifications] = runtime_of(request)
    return runtime


def _settings(request: Request) -> NotifySettings:
    settings: NotifySettings = request.app.state.notify_settings
    return settings


# How many ledger batches a command waits for before it answers (see _run).
CATCH_UP_BATCHES = 5


async def _run(request: Request, actor: Actor, role: str, method: Any, *args: Any) -> Any:
    """A person's command. It answers once the service's tables show it (what the caller
    reads next includes their own change); if that takes long, the ledger finishes later."""
    runtime = _runtime(request)
    result = await runtime.execute(
        method, *args, actor_id=actor.subject, actor_role=role,
        correlation_id=request.headers.get("x-correlation-id", ""),
    )  # fmt: skip
    workers: Workers | None = getattr(request.app.state, "workers", None)
    if workers is not None:
        ledger = workers.ledger
        try:
            for _ in range(CATCH_UP_BATCHES):
                if await ledger.catch_up() < ledger.batch_size:
                    break
        except Exception as error:  # stored all the same: the ledger's own loop retries
            log.warning("notifications ledger behind a command: %s", error)
        ledger.wake()
    return result


async def _role(request: Request, actor: Actor, contract_id: str) -> str:
    """The caller's role on the contract as the service's views have it (found_in_views)."""
    role = await found_in_views(
        request, lambda views: reads.role_of(views, contract_id, actor.subject)
    )
    if role is None:
        raise NotOnContract(actor.subject, contract_id)
    return role


def _notice(row: Any) -> dict[str, Any]:
    return {
        "notice_id": str(row["notice_id"]),
        "key": row["key"],
        "contract_id": str(row["contract_id"]),
        "person_id": row["person_id"],
        "channel": row["channel"],
        "trigger": row["trigger"],
        "subject": row["subject"],
        "text": row["body"],
        "data": json.loads(row["data"]),
        "urgent": row["urgent"],
        "status": row["status"],
        "attempts": row["attempts"],
        "last_reason": row["last_reason"],
        "address": row["address"],
        "queued_at": row["queued_at"].isoformat(),
        "delivered_at": row["delivered_at"].isoformat() if row["delivered_at"] else None,
        "acknowledged_at": row["acknowledged_at"].isoformat() if row["acknowledged_at"] else None,
        "next_attempt_at": row["next_attempt_at"].isoformat(),
    }


async def list_notifications(actor: Actor, request: Request) -> dict[str, Any]:
    """The caller's in-app notices, newest first; `?unread_only=true`, `?contract_id=`, and a
    page (`_page`): `more` says whether older ones follow."""
    params = request.query_params
    unread_only = params.get("unread_only", "").lower() in ("1", "true", "yes")
    contract_id = _contract_filter(params)
    limit, after_at, after_key = _page(params)
    if after_key is not None:
        after_key = _uuid(after_key, "after_key")
    views = await views_of(request)
    rows = await views.fetch(
        "SELECT * FROM notices WHERE person_id = $1 AND channel = 'in_app'"
        " AND status = 'delivered' AND ($2::uuid IS NULL OR contract_id = $2::uuid)"
        " AND (NOT $3 OR acknowledged_at IS NULL)"
        " AND ($5::timestamptz IS NULL OR (queued_at, notice_id) < ($5, $6::uuid))"
        " ORDER BY queued_at DESC, notice_id DESC LIMIT $4",
        actor.subject, contract_id, unread_only, limit + 1, after_at, after_key,
    )  # fmt: skip
    return {"notifications": [_notice(r) for r in rows[:limit]], "more": len(rows) > limit}


async def count_unread(actor: Actor, request: Request) -> dict[str, Any]:
    """How many of the caller's in-app notices are unread; `?contract_id=` counts one contract's."""
    contract_id = _contract_filter(request.query_params)
    views = await views_of(request)
    unread = await views.fetchval(
        "SELECT count(*) FROM notices WHERE person_id = $1 AND channel = 'in_app'"
        " AND status = 'delivered' AND ($2::uuid IS NULL OR contract_id = $2::uuid)"
        " AND acknowledged_at IS NULL",
        actor.subject, contract_id,
    )  # fmt: skip
    return {"unread": unread}


def _contract_filter(params: Mapping[str, str]) -> str | None:
    """`?contract_id=`: the contract a list is narrowed to, if any."""
    given = params.get("contract_id")
    return _uuid(given, "contract_id") if given else None


def _page(params: Mapping[str, str]) -> tuple[int, datetime | None, str | None]:
    """A page of a list: `?limit=` items (1 to MAX_PAGE, DEFAULT_PAGE unless given), read on
    after the item `?after_at=` (its queued_at, ISO 8601) and `?after_key=` (its key in the
    list's order) when both are given."""
    try:
        limit = int(params.get("limit") or DEFAULT_PAGE)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(
            f"limit must be a number from 1 to {MAX_PAGE}",
            problems=[{"field": "limit", "problem": "not a number in range"}],
        )
    at, key = params.get("after_at"), params.get("after_key")
    if not at and not key:
        return limit, None, None
    try:
        moment = datetime.fromisoformat(at or "")
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or not key:
        raise InvalidInput(
            "after_at (an instant with its offset) and after_key go together",
            problems=[{"field": "after_at", "problem": "not an instant with an after_key"}],
        )
    return limit, moment, key


def _uuid(given: str, field: str) -> str:
    try:
        return str(UUID(given))
    except ValueError:
        raise InvalidInput(
            f"{field} must be a UUID", problems=[{"field": field, "problem": "not a UUID"}]
        ) from None


async def show_notification(actor: Actor, request: Request) -> dict[str, Any]:
    """One of the caller's notices, on any channel, in whatever state it is."""
    notice_id = request.path_params["notice_id"]
    views = await views_of(request)
    row = await views.fetchrow(
        "SELECT * FROM notices WHERE notice_id = $1 AND person_id = $2", notice_id, actor.subject
    )
    if row is None:
        raise UnknownNotice(notice_id)  # someone else's notice is none of the caller's business
    return _notice(row)


async def acknowledge_notification(
    actor: Actor, body: AcknowledgeNotification, request: Request
) -> dict[str, Any]:
    notice_id = request.path_params["notice_id"]
    runtime = _runtime(request)
    record_id = await reads.record_of(await views_of(request), notice_id)
    notice = await runtime.executor.run(runtime.app.notice, notice_id, record_id)
    if notice.person_id != actor.subject:
        raise UnknownNotice(notice_id)  # someone else's notice is none of the caller's business
    result = await _run(
        request, actor, "recipient", runtime.app.acknowledge_notification,
        notice_id, actor.subject, record_id,
    )  # fmt: skip
    return dict(result.as_dict())


async def show_policies(actor: Actor, request: Request) -> dict[str, Any]:
    """Each trigger's policy on the contract, and whether it is the default."""
    contract_id = str(request.path_params["contract_id"])
    await _role(request, actor, contract_id)
    settings = _settings(request)
    defaults = default_policies(settings.reminder_every, settings.reminder_before_due)
    changed = await reads.changed_policies(views_pool(request), contract_id)
    return {
        "contract_id": contract_id,
        "policies": {
            t.value: {
                "policy": policy_for(t, defaults, changed).model_dump(mode="json"),
                "default": t.value not in changed,
            }
            for t in POLICY_TRIGGERS
        },
    }


async def change_notification_policy(
    actor: Actor, body: ChangeNotificationPolicy, request: Request
) -> dict[str, Any]:
    contract_id = str(request.path_params["contract_id"])
    role = await _role(request, actor, contract_id)
    if role not in POLICY_SETTERS:
        raise NotAllowed(actor.subject, "change how this contract notifies people")
    if body.trigger is Trigger.OBLIGATION_REMINDER:
        raise InvalidInput(
            "reminders follow the obligation_proposed policy; change that one",
            problems=[{"field": "trigger", "problem": "not a policy of its own"}],
        )
    runtime = _runtime(request)
    result = await _run(
        request, actor, role, runtime.app.change_notification_policy,
        UUID(contract_id), body.trigger, body.policy, actor.subject,
    )  # fmt: skip
    return dict(result.as_dict())


async def show_preferences(actor: Actor, request: Request) -> dict[str, Any]:
    """The caller's way of being reached (everyone's, for the account manager and sponsor)."""
    contract_id = str(request.path_params["contract_id"])
    role = await _role(request, actor, contract_id)
    pool = views_pool(request)
    snapshot = await reads.snapshot(pool, contract_id)
    chosen = await reads.preferences(pool, contract_id)
    email_enabled = _settings(request).email_enabled
    people = list(snapshot.people.values())
    if role not in POLICY_SETTERS:
        people = [p for p in people if p.person_id == actor.subject]
    return {
        "contract_id": contract_id,
        "preferences": [
            {
                "person_id": p.person_id,
                "default": p.person_id not in chosen,
                **_preference(
                    chosen.get(p.person_id) or default_preference(p.email, email_enabled)
                ),
            }
            for p in sorted(people, key=lambda p: p.person_id)
        ],
    }


def _preference(preference: Preference) -> dict[str, str]:
    return {
        "channel": preference.channel.value,
        "cadence": preference.cadence.value,
        "email": preference.email,
        "webhook_url": preference.webhook_url,
    }


async def change_notification_preferences(
    actor: Actor, body: ChangeNotificationPreferences, request: Request
) -> dict[str, Any]:
    contract_id = str(request.path_params["contract_id"])
    role = await _role(request, actor, contract_id)
    person_id = body.person_id or actor.subject
    if person_id != actor.subject:
        if role not in PREFERENCE_SETTERS:
            raise NotAllowed(actor.subject, f"choose how {person_id} is reached")
        if await reads.role_of(views_pool(request), contract_id, person_id) is None:
            raise NotOnContract(person_id, contract_id)
    if body.channel is Channel.WEBHOOK:
        allowed = _settings(request).webhook_allowed_networks
        try:  # checked again at each delivery: what a name resolves to may change
            await check_url(body.webhook_url, allowed, must_resolve=False)
        except ClosedDestination as error:
            raise InvalidPreference(f"The webhook_url cannot be used: {error}.") from None
    if body.email and not valid_address(body.email):
        raise InvalidPreference(f"{body.email!r} is not an email address.")
    preference = Preference(body.channel, body.cadence, body.email, body.webhook_url)
    runtime = _runtime(request)
    result = await _run(
        request, actor, role, runtime.app.change_notification_preferences,
        UUID(contract_id), person_id, preference, actor.subject,
    )  # fmt: skip
    return dict(result.as_dict())


async def deliveries(actor: Actor, request: Request) -> dict[str, Any]:
    """The contract's notices with their state, oldest first, a page at a time (`_page`; `more`
    says whether others follow): `?status=dead_lettered` finds the failures."""
    contract_id = str(request.path_params["contract_id"])
    role = await _role(request, actor, contract_id)
    if role not in WATCHERS:
        raise NotAllowed(actor.subject, "see this contract's deliveries")
    status = _status(request.query_params.get("status"))
    limit, after_at, after_key = _page(request.query_params)
    views = views_pool(request)
    rows = await views.fetch(
        "SELECT * FROM notices WHERE contract_id = $1 AND ($2::text IS NULL OR status = $2)"
        " AND ($4::timestamptz IS NULL OR (queued_at, key) > ($4, $5::text))"
        " ORDER BY queued_at, key LIMIT $3",
        contract_id, status, limit + 1, after_at, after_key,
    )  # fmt: skip
    return {
        "contract_id": contract_id,
        "notices": [_notice(r) for r in rows[:limit]],
        "more": len(rows) > limit,
    }


async def show_delivery(actor: Actor, request: Request) -> dict[str, Any]:
    """One notice of the contract and how its delivery went (account manager, sponsor, auditor)."""
    contract_id = str(request.path_params["contract_id"])
    notice_id = request.path_params["notice_id"]
    role = await _role(request, actor, contract_id)
    if role not in WATCHERS:
        raise NotAllowed(actor.subject, "see this contract's deliveries")
    views = views_pool(request)
    row = await views.fetchrow(
        "SELECT * FROM notices WHERE contract_id = $1 AND notice_id = $2", contract_id, notice_id
    )
    if row is None:
        raise UnknownNotice(notice_id)
    return _notice(row)


def _status(given: str | None) -> str | None:
    """The status a deliveries query asks for, one a notice can be in (or none: all)."""
    if not given:
        return None
    try:
        return NoticeStatus(given).value
    except ValueError:
        raise InvalidInput(
            f"status must be one of {', '.join(s.value for s in NoticeStatus)}",
            problems=[{"field": "status", "problem": "not a notice status"}],
        ) from None


async def requeue_notice(actor: Actor, body: RequeueNotice, request: Request) -> dict[str, Any]:
    """Queue a dead-lettered notice of the contract again, once its receiver works: sent at
    once, with as many attempts as at first (account manager and sponsor)."""
    contract_id = str(request.path_params["contract_id"])
    notice_id = request.path_params["notice_id"]
    role = await _role(request, actor, contract_id)
    if role not in POLICY_SETTERS:
        raise NotAllowed(actor.subject, "queue this contract's notices again")
    runtime = _runtime(request)
    record_id = await reads.record_of(views_pool(request), notice_id)
    notice = await runtime.executor.run(runtime.app.notice, notice_id, record_id)
    if str(notice.contract_id) != contract_id:
        raise UnknownNotice(notice_id)
    result = await _run(
        request, actor, role, runtime.app.requeue_notice, notice_id, actor.subject, record_id
    )
    return dict(result.as_dict())


async def reminders(actor: Actor, request: Request) -> dict[str, Any]:
    """The contract's reminders: which are still to go out, which went, which were stopped."""
    contract_id = str(request.path_params["contract_id"])
    await _role(request, actor, contract_id)
    views = views_pool(request)
    rows = await views.fetch(
        "SELECT * FROM reminders WHERE contract_id = $1 ORDER BY due_at", contract_id
    )
    return {
        "contract_id": contract_id,
        "reminders": [
            {
                "reminder_id": str(r["reminder_id"]),
                "obligation_id": str(r["obligation_id"]),
                "kind": r["kind"],
                "sequence": r["sequence"],
                "due_at": r["due_at"].isoformat(),
                "status": r["status"],
                "reason": r["reason"],
            }
            for r in rows
        ],
    }


ROUTES: list[BaseRoute] = [
    query("/notifications", list_notifications),
    query("/notifications/unread", count_unread),
    query("/notifications/{notice_id}", show_notification),
    route(notifications.ACKNOWLEDGE_NOTIFICATION, acknowledge_notification),
    query("/contracts/{contract_id}/policies", show_policies),
    route(notifications.CHANGE_NOTIFICATION_POLICY, change_notification_policy),
    query("/contracts/{contract_id}/preferences", show_preferences),
    route(notifications.CHANGE_NOTIFICATION_PREFERENCES, change_notification_preferences),
    query("/contracts/{contract_id}/deliveries", deliveries),
    query("/contracts/{contract_id}/deliveries/{notice_id}", show_delivery),
    route(notifications.REQUEUE_NOTICE, requeue_notice),
    query("/contracts/{contract_id}/reminders", reminders),
]


def create_app(settings: Settings, bus: Bus, notify: NotifySettings | None = None) -> Starlette:
    """The service's process: runtime and relay, its view of the contracts, the workers."""
    notify = notify or NotifySettings()
    together = batching(notify) if notify.batched else None

    def queued(_: BatchResult) -> None:
        """The view queued what to notify: the dispatcher takes it now."""
        workers = getattr(app.state, "workers", None)
        if workers is not None:
            workers.dispatcher.wake()

    view = View("contract-view", TOPICS, tables.SCHEMA, handler(notify), together, queued)

    async def workers() -> str | None:
        running = getattr(app.state, "workers", None)
        return "not started" if running is None else running.problems()

    async def notices() -> list[Reading]:
        pool = getattr(app.state, "pool", None)
        return [] if pool is None else await notices_waiting(pool)

    app = service_app(
        SERVICE, Notifications, settings, bus, ROUTES, views=[view], checks={"workers": workers}
    )
    app.state.readings.append(notices)
    app.state.notify_settings = notify
    return with_workers(app, settings, notify)
