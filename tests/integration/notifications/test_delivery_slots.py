"""A receiver that does not answer holds one of the delivery worker's slots and nothing else:
the notices that come due meanwhile go out through the other slots, and no notice is claimed
before a slot is free to send it (its claim would run out while it waited, and another replica
could send it too)."""

from __future__ import annotations

import asyncpg
import pytest

from services.notifications.settings import NotifySettings
from shared.settings import Settings
from tests.integration.notifications.conftest import SECRET
from tests.integration.notifications.contract_story import Elicitation, Notify, eventually, unique
from tests.integration.notifications.receiver import Receiver

DM = "client_decision_maker"


@pytest.fixture
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
