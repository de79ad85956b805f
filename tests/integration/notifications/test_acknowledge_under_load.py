"""Everyone told of one event acknowledges at once, while the delivery worker records attempts
on the same NoticeSet: every acknowledgement lands or is refused as a CONFLICT the client
can send again, never an internal error."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from services.notifications.application import Notifications
from services.notifications.notice_set import NoticeSet
from services.notifications.outcomes import NoticeRef
from services.notifications.planner import NoticePlan
from services.notifications.policies import Trigger
from services.notifications.preferences import Channel
from shared.commands.result import CommandResult
from shared.errors import AccordError
from shared.provenance import acting_as
from shared.settings import Settings

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PEOPLE = [f"person-{n}" for n in range(40)]
# As many commands at once as a service runs (Settings.store_threads).
THREADS = Settings().store_threads


def plan(contract: UUID, source: str, person: str, channel: Channel) -> NoticePlan:
    return NoticePlan(
        contract_id=contract, source_event_id=source, trigger=Trigger.RISK_DISCLOSED,
        person_id=person, channel=channel, subject="Risk disclosed: Peak season",
        text="The provider disclosed a risk.", data={}, urgent=True, digest=False,
    )  # fmt: skip


def test_everyone_acknowledging_one_event_at_once_is_answered_without_an_internal_error(
    app: Notifications,
) -> None:
    contract, source = uuid4(), f"risk-disclosed-{uuid4()}"
    in_app = [plan(contract, source, p, Channel.IN_APP) for p in PEOPLE]
    # A receiver that keeps failing: the delivery worker records an attempt on the set again
    # and again while people acknowledge their notices of it.
    webhook = plan(contract, source, "enterprise-system", Channel.WEBHOOK)
    with acting_as("accord-notifications", "system"):
        assert app.queue([*in_app, webhook]) == len(PEOPLE) + 1
    record_id = NoticeSet.create_id(source)
    acknowledged = threading.Event()

    def delivery_worker() -> int:
        recorded = 0
        with acting_as("accord-notifications", "system"):
            while not acknowledged.is_set():
                failed = [NoticeRef.of(webhook.notice_id, record_id)]
                try:
                    recorded += app.record_failed(failed, "HTTP 503", "u", NOW, timedelta(0), 10**6)
                except (AccordError, IntegrityError):
                    continue  # as the worker does: its claim expires, and it tries again
        return recorded

    def acknowledge(person: str, notice_id: UUID) -> CommandResult | AccordError:
        with acting_as(person, "client_decision_maker"):
            try:
                return app.acknowledge_notification(notice_id, person, record_id)
            except AccordError as refused:
                return refused

    with ThreadPoolExecutor(THREADS + 1) as pool:
        worker = pool.submit(delivery_worker)
        try:
            acks = [pool.submit(acknowledge, p.person_id, p.notice_id) for p in in_app]
            answers = [a.result() for a in acks]  # an IntegrityError would be raised here
        finally:
            acknowledged.set()
        assert worker.result() > 0, "the worker recorded attempts meanwhile"

    refused = [a for a in answers if isinstance(a, AccordError)]
    assert {r.code for r in refused} <= {"CONFLICT"}, refused
    assert len(refused) <= len(PEOPLE) // 10, f"{len(refused)} of {len(PEOPLE)} refused"
    record: object = app.repository.get(record_id)
    assert isinstance(record, NoticeSet)
    for p, answer in zip(in_app, answers, strict=True):
        state = record.notice(p.notice_id)
        assert state is not None
        assert state.acknowledged_by == ("" if isinstance(answer, AccordError) else p.person_id)
