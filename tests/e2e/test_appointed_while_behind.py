"""Someone appointed while the services' views are behind is not refused as a stranger: the
notifications and ranking services look again once their views hold the appointment.

Before, a view more than a second behind (a busy moment, a long batch) answered
UNKNOWN_PARTICIPANT to a decision maker who had just been appointed, as to an outsider.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx

from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.accord_process import accord_env, accord_running, answer
from tests.e2e.contract_steps import JOIN, OPEN
from tests.support.waiting import eventually

PREFER = """mutation($c: ID!) { changeNotificationPreferences(input:
    {contractId: $c, channel: EMAIL}) { __typename ... on Refusal { code message } } }"""
HELD_SECONDS = 2.5  # past the second a read waits for the view, inside the view wait (10 s)


def ballot_of(url: str, contract: str) -> httpx.Response:
    """The ranking service's ballot of the contract, asked by the decision maker `cfo`."""
    token = mint_token(Settings(), "cfo")
    return httpx.get(
        url.removesuffix("/graphql") + f"/ranking/contracts/{contract}/ballot",
        headers={"authorization": f"Bearer {token}"}, timeout=30,
    )  # fmt: skip


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
            await database.execute(
                "LOCK TABLE notifications.view_participants, ranking.view_participants"
                " IN EXCLUSIVE MODE"
            )
            assert answer(url, "am", JOIN, c=contract)["__typename"] == "ContractChanged"
            asked = asyncio.create_task(asyncio.to_thread(answer, url, "cfo", PREFER, c=contract))
            # Ranking's own endpoint: what a prioritization opened now would put to the vote.
            ballot = asyncio.create_task(asyncio.to_thread(ballot_of, url, contract))
            await asyncio.sleep(HELD_SECONDS)
            assert not asked.done(), asked.result()  # waiting for the view, not refused
            assert not ballot.done(), ballot.result().text
            await held.rollback()
            chosen = await asyncio.wait_for(asked, timeout=30)
            shown = await asyncio.wait_for(ballot, timeout=30)
        finally:
            await database.close()
        assert chosen["__typename"] == "NotificationPreferencesChanged", chosen
        assert shown.status_code == 200 and "cfo" in shown.json()["voters"], shown.text
        # An outsider is still refused once the view has caught up.
        stranger = answer(url, "mallory", PREFER, c=contract)
        assert stranger["__typename"] != "NotificationPreferencesChanged", stranger
