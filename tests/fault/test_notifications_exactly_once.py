"""The notifications service killed (SIGKILL) mid-delivery and started again: every notice
arrives exactly once, counted at the receiver by its idempotency key."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared.recorder import bound_statement
from shared.settings import Settings
from tests.fault.notifications import WEBHOOK_SECRET, notifications_process
from tests.integration.http_server import serving
from tests.integration.kafka_tools import read_topic
from tests.integration.notifications.contract_story import Elicitation, Notify, unique
from tests.integration.notifications.receiver import Receiver
from tests.integration.notifications.service_process import ServiceProcess
from tests.support.waiting import eventually

DM = "client_decision_maker"


# Both ways of keeping the view and the ledger: a batch together, and each event on its own.
@pytest.fixture(params=["true", "false"], ids=["batched", "one-by-one"])
def service(
    settings: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[ServiceProcess]:
    process = notifications_process(
        settings,
        tmp_path / "notifications.log",
        batched=request.param,
        backoff_base_seconds="0.2",
        backoff_max_seconds="1",
        delivery_concurrency="4",
        delivery_interval_seconds="0.2",
        # Notices in flight at the kill are retried once their claim expires (timeout + 5 s).
        webhook_timeout_seconds="2",
        smtp_timeout_seconds="2",
    )
    yield process
    process.stop()


async def test_a_crash_mid_delivery_neither_loses_nor_repeats_a_notice(
    settings: Settings, elicitation: Elicitation, service: ServiceProcess
) -> None:
    # Each answer takes a while, so the kill lands while sends are in flight.
    hooks = Receiver(WEBHOOK_SECRET, delay=0.3)
    async with serving(hooks.app) as hook_url:
        url = await service.start()
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            notify = Notify(http, settings)
            am = unique("am")
            deciders = [unique(f"dm{n}") for n in range(5)]
            contract = await elicitation.contract(am, "")
            for person in deciders:  # the first decision maker appoints the rest of the client
                by = am if person == deciders[0] else deciders[0]
                await elicitation.join(contract, by, person, DM)
            await notify.knows(contract, am, 6)
            for person in [am, *deciders]:
                await notify.prefer(
                    contract, person, channel="webhook", webhook_url=f"{hook_url}/hook/ok"
                )
        expected: Counter[str] = Counter()
        for n, person in enumerate(deciders * 2):
            await elicitation.run(
                "propose_expectation", contract, by=person, text=f"Expectation {n}",
                business_area="ops",
            )  # fmt: skip
            expected.update([person, am])
        for n in range(3):
            await elicitation.run(
                "disclose_risk", contract, by=am, kind="problem", title=f"Risk {n}",
                description="may happen", likelihood=2, impact=3, affected_expectations=[],
            )  # fmt: skip
            expected.update(deciders)
        total = sum(expected.values())

        await eventually(lambda: sum(hooks.raw.values()) >= 8)
        service.kill()
        killed_after = len(hooks.accepted)
        assert killed_after < total, "the crash should land mid-delivery"
        await eventually(lambda: hooks.answering == 0)  # what was in flight at the kill

        await service.start()

        def mine() -> list[dict]:
            return [p for p in hooks.accepted.values() if p["contract_id"] == contract]

        await eventually(lambda: len(mine()) == total, timeout=120)

        # The record agrees: each notice delivered once, whatever the relay republished. The
        # receiver stays up meanwhile: what was in flight at the kill reached it, but only a
        # send after the claims expire (claim_seconds after the kill) records it as delivered.
        delivered: dict[str, set[str]] = {}

        async def all_published() -> bool:
            delivered.clear()
            topic = await read_topic(
                settings.kafka_bootstrap, "accord.notifications.v1", key=contract
            )
            for message in topic:
                envelope = message.envelope()
                if envelope.type.endswith(".NotificationDelivered.v1"):
                    delivered.setdefault(envelope.data["notice_id"], set()).add(envelope.id)
                elif envelope.type.endswith(".NotificationDelivered.v2"):  # a set's deliveries
                    for each in envelope.data["deliveries"]:
                        delivered.setdefault(each["notice_id"], set()).add(envelope.id)
            return len(delivered) == total

        try:
            await eventually(all_published, timeout=60)
        except TimeoutError:
            pytest.fail(
                f"{len(delivered)} of {total} notices' NotificationDelivered on Kafka after 60 s;"
                f" {hooks.repeats} repeat(s) at the receiver; "
                + await relay_state(settings.database_url, contract)
            )
        # Nothing more can come once every notice of the contract is recorded as delivered.
        await eventually(lambda: all_recorded(settings.database_url, contract), timeout=60)
    received = Counter(p["person_id"] for p in mine())
    assert received == expected
    assert all(count >= 1 for count in hooks.raw.values())
    repeats = hooks.repeats
    print(f"\n{total} notices; killed after {killed_after} had been accepted; "
          f"{repeats} raw repeat(s) arrived (sent before the kill, recorded after) and were "
          "dropped by the receiver by their idempotency key")  # fmt: skip
    assert all(len(ids) == 1 for ids in delivered.values())


async def all_recorded(database_url: str, contract: str) -> bool:
    """Whether the ledger holds every notice of the contract as delivered: none is sent again."""
    conn = await asyncpg.connect(database_url)
    try:
        left = await conn.fetchval(
            "SELECT count(*) FROM notifications.notices WHERE contract_id = $1"
            " AND status <> 'delivered'",
            contract,
        )
    finally:
        await conn.close()
    return int(left) == 0


async def relay_state(database_url: str, contract: str) -> str:
    """Where the notifications relay got to against its log, who bounds its reads, and the
    contract's notices not recorded as delivered: what a time-out of the check above needs to
    be told apart (a relay behind, a broker read, or notices still to send)."""
    conn = await asyncpg.connect(database_url)
    try:
        position = await conn.fetchval(
            "SELECT position FROM notifications.outbox_positions WHERE relay = $1",
            "notifications-kafka",
        )
        stored = await conn.fetchval(
            "SELECT max(notification_id) FROM notifications.notifications_events"
        )
        bound = await conn.fetchrow(bound_statement("notifications", "notifications_events"))
        undelivered = await conn.fetch(
            "SELECT status, attempts, claimed_until > now() AS claimed FROM notifications.notices"
            " WHERE contract_id = $1 AND status <> 'delivered'",
            contract,
        )
    finally:
        await conn.close()
    assert bound is not None
    return (
        f"relay at {position}, log at {stored}; snapshot {bound['snapshot']}, running writers"
        f" {bound['writers']}; not delivered: {[tuple(r) for r in undelivered]}"
    )
