"""Someone appointed while the notifications service's view is behind is not refused as a
stranger: the service looks again once its view holds the appointment.

Before, a view more than a second behind (a busy moment, a long batch) answered
UNKNOWN_PARTICIPANT to a decision maker who had just been appointed, as to an outsider.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from tests.e2e.accord_process import accord_env, accord_running, answer
from tests.e2e.contract_steps import JOIN, OPEN
from tests.support.waiting import eventually

PREFER = """mutation($c: ID!) { changeNotificationPreferences(input:
    {contractId: $c, channel: EMAIL}) { __typename ... on Refusal { code message } } }"""
HELD_SECONDS = 2.5  # past the second a read waits for the view, inside the view wait (10 s)


async def test_a_person_appointed_while_the_view_is_behind_sets_their_preferences(
    tmp_path: Path,
) -> None:
    with accord_running(tmp_path, accord_env(tmp_path / ".accord")) as running:
        url = running.url
        contract = str(answer(url, "am", OPEN)["created"])
        # The view knows the contract (its account manager) before it is held back.
        await eventually(lambda: answer(url, "am", PREFER, c=contract)["__typename"] != "NotFound")
        database = await asyncpg.connect(running.database)
        try:
            # The view's writes wait behind this lock; its reads do not.
            held = database.transaction()
            await held.start()
            await database.execute("LOCK TABLE notifications.view_participants IN EXCLUSIVE MODE")
            assert answer(url, "am", JOIN, c=contract)["__typename"] == "ContractChanged"
            asked = asyncio.create_task(asyncio.to_thread(answer, url, "cfo", PREFER, c=contract))
            await asyncio.sleep(HELD_SECONDS)
            assert not asked.done(), asked.result()  # waiting for the view, not refused
            await held.rollback()
            chosen = await asyncio.wait_for(asked, timeout=30)
        finally:
            await database.close()
        assert chosen["__typename"] == "NotificationPreferencesChanged", chosen
        # An outsider is still refused once the view has caught up.
        stranger = answer(url, "mallory", PREFER, c=contract)
        assert stranger["__typename"] != "NotificationPreferencesChanged", stranger
