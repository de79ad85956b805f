"""Reminders are events: they fire on time after the service was killed and started again,
and they stop once the obligation is decided."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.settings import Settings
from tests.fault.notifications import WEBHOOK_SECRET, notifications_process
from tests.integration.http_server import serving
from tests.integration.notifications.contract_story import Elicitation, Notify, unique
from tests.integration.notifications.receiver import Receiver
from tests.integration.notifications.service_process import ServiceProcess
from tests.support.waiting import eventually

DM = "client_decision_maker"
EVERY_SECONDS = 2


@pytest.fixture
def service(settings: Settings, tmp_path: Path) -> Iterator[ServiceProcess]:
    process = notifications_process(
        settings,
        tmp_path / "notifications.log",
        # Short reminders for the test: every 2 seconds (ISO 8601 duration).
        reminder_every=f"PT{EVERY_SECONDS}S",
        scheduler_interval_seconds="0.3",
        delivery_interval_seconds="0.2",
    )
    yield process
    process.stop()


async def test_reminders_fire_after_a_restart_and_stop_once_the_obligation_is_decided(
    settings: Settings, elicitation: Elicitation, service: ServiceProcess
) -> None:
    hooks = Receiver(WEBHOOK_SECRET)
    async with serving(hooks.app) as hook_url:
        am, li, tom = unique("am"), unique("li"), unique("tom")
        contract = await elicitation.contract(am, "")
        await elicitation.join(contract, am, li, DM)
        await elicitation.join(contract, li, tom, DM)  # the client's first person appoints
        url = await service.start()
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            notify = Notify(http, settings)
            await notify.knows(contract, am, 3)
            await notify.prefer(contract, li, channel="webhook", webhook_url=f"{hook_url}/hook/ok")
        proposed = await elicitation.run(
            "propose_obligation", contract, by=am, what="VPN access for the service desk",
            needed_from=li, due_on="2030-01-31",
        )  # fmt: skip
        obligation = str(proposed.id)

        def reminders() -> list[dict]:
            return [
                p for p in hooks.for_person(li)
                if p["trigger"] == "obligation_reminder" and p["contract_id"] == contract
            ]  # fmt: skip

        await eventually(
            lambda: any(p["trigger"] == "obligation_proposed" for p in hooks.for_person(li))
        )
        await eventually(lambda: len(reminders()) >= 1, timeout=30)

        service.kill()
        await asyncio.sleep(0.5)  # a send in flight at the kill lands now or never
        before = len(reminders())
        await asyncio.sleep(3 * EVERY_SECONDS)  # a reminder comes due while the service is down
        assert len(reminders()) == before
        url = await service.start()
        await eventually(lambda: len(reminders()) > before, timeout=30)
        assert all(p["data"]["obligation_id"] == obligation for p in reminders())
        # Each reminder is its own notice: its own key, delivered once.
        assert len({p["key"] for p in reminders()}) == len(reminders())

        await elicitation.run("accept_obligation", proposed.id, by=li)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            notify = Notify(http, settings)

            async def stopped() -> bool:
                answer = await notify.get(am, f"/contracts/{contract}/reminders")
                listed = answer.json()["reminders"]
                return bool(listed) and all(r["status"] != "scheduled" for r in listed)

            await eventually(stopped, timeout=30)
            listed = (await notify.get(am, f"/contracts/{contract}/reminders")).json()["reminders"]
        assert {r["status"] for r in listed} <= {"fired", "cancelled"}
        assert any(r["reason"] == "the obligation was accepted" for r in listed)
        settled = len(reminders())
        await asyncio.sleep(3 * EVERY_SECONDS)
        assert len(reminders()) == settled
