"""A receiver that does not answer holds one of the delivery worker's slots and nothing else:
the notices that come due meanwhile go out through the other slots, and no notice is claimed
before a slot is free to send it (its claim would run out while it waited, and another replica
could send it too). A stopping service lets the sends under way finish and records them."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import httpx
import pytest

from services.notifications.api import create_app
from services.notifications.settings import NotifySettings
from shared.bus_kafka import KafkaBus
from shared.settings import Settings
from tests.integration.http_server import serving
from tests.integration.notifications.conftest import SECRET
from tests.integration.notifications.contract_story import Elicitation, Notify, eventually, unique
from tests.integration.notifications.receiver import Receiver

DM = "client_decision_maker"


@pytest.fixture(name="notify_settings")
def notify_settings_fixture() -> NotifySettings:
    return notify_settings()


def notify_settings() -> NotifySettings:
    return NotifySettings(
        webhook_secret=SECRET,
        webhook_allowed_networks=["127.0.0.0/8"],
        # Two slots, and sends given all the time they need: only the test ends the held one.
        delivery_concurrency=2,
        webhook_timeout_seconds=120.0,
        delivery_interval_seconds=0.2,
    )


async def pending(settings: Settings, contract: str) -> list[tuple[str, bool]]:
    """The contract's notices not delivered yet: to whom, and whether a worker claimed it."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            "SELECT person_id, coalesce(claimed_until > now(), false) AS claimed"
            " FROM notifications.notices WHERE contract_id = $1"
            " AND status IN ('queued', 'retrying') ORDER BY person_id, claimed",
            contract,
        )
    finally:
        await conn.close()
    return [(r["person_id"], r["claimed"]) for r in rows]


async def deliveries_recorded(settings: Settings, contract: str, person: str) -> int:
    """The NotificationDelivered events in the store of the person's notices on the contract."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        # Each event names the notices it delivered (ids stored as hex).
        found: int = await conn.fetchval(
            "SELECT count(*) FROM notifications.notifications_events e"
            " JOIN notifications.notices n ON e.originator_id = n.record_id"
            " WHERE n.contract_id = $1 AND n.person_id = $2"
            " AND e.topic LIKE '%NotificationDelivered%'"
            " AND position(replace(n.notice_id::text, '-', '') IN convert_from(e.state, 'UTF8'))"
            " > 0",
            contract,
            person,
        )
    finally:
        await conn.close()
    return found


async def test_a_receiver_that_never_answers_holds_one_slot_and_the_next_notices_go_out(
    settings: Settings,
    elicitation: Elicitation,
    notify: Notify,
    receiver: tuple[Receiver, str],
) -> None:
    hooks, url = receiver
    am, held, fine = unique("am"), unique("dm-held"), unique("dm-fine")
    contract = await elicitation.contract(am, "")
    await elicitation.join(contract, am, held, DM)
    await elicitation.join(contract, held, fine, DM)  # the client's first person appoints
    await notify.knows(contract, am, 3)
    await notify.prefer(contract, held, channel="webhook", webhook_url=f"{url}/hook/held")
    await notify.prefer(contract, fine, channel="webhook", webhook_url=f"{url}/hook/ok")
    try:
        await elicitation.run(
            "propose_expectation", contract, by=held, text="Held up", business_area="ops"
        )
        await eventually(lambda: hooks.holding == 1)
        # Planned, claimed and sent while the first send still waits for its answer.
        await elicitation.run(
            "propose_expectation", contract, by=fine, text="Goes out", business_area="ops"
        )
        await eventually(lambda: len(hooks.for_person(fine)) == 1)
        assert hooks.holding == 1 and not hooks.for_person(held)

        # Both slots held: the next notice is due, and nobody claims it while no slot is free.
        await elicitation.run(
            "propose_expectation", contract, by=held, text="Held up too", business_area="ops"
        )
        await eventually(lambda: hooks.holding == 2)
        await elicitation.run(
            "propose_expectation", contract, by=fine, text="Waits its turn", business_area="ops"
        )

        async def queued_for_fine() -> bool:
            return (fine, False) in await pending(settings, contract)

        await eventually(queued_for_fine)
        claims = [person for person, claimed in await pending(settings, contract) if claimed]
        assert claims == [held, held]
        assert len(hooks.for_person(fine)) == 1
    finally:
        hooks.released.set()
    await eventually(lambda: len(hooks.for_person(fine)) == 2)
    await eventually(lambda: len(hooks.for_person(held)) == 2)
    assert hooks.repeats == 0


async def test_a_stopping_service_lets_the_sends_under_way_finish_and_records_them(
    settings: Settings,
    elicitation: Elicitation,
    receiver: tuple[Receiver, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stopped (Ctrl-C, a rolling deploy) while a receiver is still answering: the send is let
    finish and recorded delivered, so the next start does not send it again."""
    hooks, url = receiver
    am, held = unique("am"), unique("dm-held")
    contract = await elicitation.contract(am, "")
    await elicitation.join(contract, am, held, DM)
    app = create_app(settings, KafkaBus(settings.kafka_bootstrap), notify_settings())
    server = serving(app)
    base = await server.__aenter__()
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            notify = Notify(http, settings)
            await notify.knows(contract, am, 2)
            await notify.prefer(contract, held, channel="webhook", webhook_url=f"{url}/hook/held")
        await elicitation.run(
            "propose_expectation", contract, by=held, text="Sent at the stop", business_area="ops"
        )
        await eventually(lambda: hooks.holding == 1)
    finally:
        stopping = asyncio.create_task(server.__aexit__(None, None, None))
    with caplog.at_level(logging.INFO, logger="services.notifications.delivery"):
        try:
            await eventually(lambda: "send(s) under way get" in caplog.text, timeout=30)
        finally:
            hooks.released.set()  # the receiver answers while the service stops
            await stopping
    assert "cut short" not in caplog.text
    # Recorded delivered in its record (the tables catch up at the next start): nothing to send
    # again, where a send cut short would go again once its claim ran out.
    assert await deliveries_recorded(settings, contract, held) == 1
    assert len(hooks.for_person(held)) == 1 and hooks.repeats == 0
