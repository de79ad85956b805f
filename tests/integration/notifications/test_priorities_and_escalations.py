"""Ranking's published priorities reach every decision maker; a missed target on a top-two
priority escalates to the sponsor and the account manager; a contract's own policy is obeyed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import pytest

from services.ranking.application import Prioritizations
from services.ranking.result import Method
from shared.bus_kafka import KafkaBus
from shared.runtime import ServiceRuntime, build_runtime
from shared.settings import Settings
from tests.integration.notifications.contract_story import (
    Elicitation,
    Notify,
    eventually,
    unique,
)
from tests.integration.notifications.mailbox import Mailbox

DM = "client_decision_maker"
TERMS = {
    "metric": "availability", "comparison": "at_least", "target": "99.5", "unit": "percent",
    "recurrence": "monthly", "measurement_method": "monitoring", "measured_by": "provider",
}  # fmt: skip


@pytest.fixture
async def ranking(settings: Settings) -> AsyncIterator[ServiceRuntime[Prioritizations]]:
    bus = KafkaBus(settings.kafka_bootstrap)
    runtime = await build_runtime("ranking", Prioritizations, settings, bus.publisher("rank"))
    await runtime.start()
    yield runtime
    await runtime.stop()


async def test_priorities_reach_decision_makers_and_a_top_priority_miss_escalates(
    elicitation: Elicitation,
    ranking: ServiceRuntime[Prioritizations],
    notify: Notify,
    mailbox: Mailbox,
) -> None:
    am, sponsor, cfo, coo = (unique(n) for n in ("am", "ceo", "cfo", "coo"))
    mail = {p: f"{p}@northwind.example" for p in (am, sponsor, cfo, coo)}
    contract = await elicitation.contract(am, mail[am])
    await elicitation.join(contract, am, sponsor, "client_sponsor", mail[sponsor])
    await elicitation.join(contract, sponsor, cfo, DM, mail[cfo])  # each side appoints its own
    await elicitation.join(contract, sponsor, coo, DM, mail[coo])
    await notify.knows(contract, am, 4)

    # The sponsor wants to hear of every new expectation themselves, instead of the default.
    changed = await notify.post(sponsor, f"/contracts/{contract}/policies", {
        "trigger": "expectation_proposed", "policy": {"recipients": ["client_sponsor"]},
    })  # fmt: skip
    assert changed.status_code == 200, changed.text
    refused = await notify.post(cfo, f"/contracts/{contract}/policies", {
        "trigger": "expectation_proposed", "policy": {"recipients": []},
    })  # fmt: skip
    assert (refused.status_code, refused.json()["code"]) == (403, "NOT_PERMITTED")

    async def policy_applied() -> bool:
        shown = await notify.get(cfo, f"/contracts/{contract}/policies")
        return shown.json()["policies"]["expectation_proposed"]["default"] is False

    await eventually(policy_applied)

    expectations = []
    for person, text in [
        (cfo, "Cost report on time"),
        (coo, "Warehouse up"),
        (cfo, "Invoices right"),
    ]:
        proposed = await elicitation.run(
            "propose_expectation", contract, by=person, text=text, business_area="ops"
        )
        await elicitation.run(
            "refine_expectation", proposed.id, by=am, text=text, terms=TERMS, reason="measurable"
        )
        expectations.append(str(proposed.id))
    report, warehouse, invoices = expectations
    await eventually(
        lambda: len([m for m in mailbox.to(mail[sponsor]) if m.subject.startswith("New")]) == 3
    )
    assert not [m for m in mailbox.to(mail[am]) if m.subject.startswith("New expectation")]

    opened = await ranking.execute(
        ranking.app.open_prioritization, UUID(contract), expectations, [cfo, coo],
        Method.SCHULZE, am, actor_id=am, actor_role="provider_account_manager",
    )  # fmt: skip
    for voter in (cfo, coo):
        await ranking.execute(
            ranking.app.cast_vote, opened.id, voter, {"ranking": [warehouse, report, invoices]},
            actor_id=voter, actor_role=DM,
        )  # fmt: skip
    await ranking.execute(
        ranking.app.close_prioritization, opened.id, am, actor_id=am, actor_role="am"
    )

    def ranked(person: str) -> list:
        return [
            m
            for m in mailbox.to(mail[person])
            if m.subject == "The corporate priorities are published"
        ]

    await eventually(lambda: len(ranked(cfo)) == 1 and len(ranked(coo)) == 1)
    assert ranked(cfo)[0].text.splitlines()[1:] == [
        "1. Warehouse up", "2. Cost report on time", "3. Invoices right",
    ]  # fmt: skip
    assert ranked(sponsor) == [] and ranked(am) == []

    # Misses on the third priority say nothing; on the second, the sponsor and AM hear at once.
    for expectation in (invoices, report):
        await elicitation.run(
            "record_measurement", UUID(expectation), by=am, period_start="2026-12-01",
            period_end="2026-12-31", value="97.0", source="monitoring export",
        )  # fmt: skip

    def escalated(person: str) -> list:
        return [m for m in mailbox.to(mail[person]) if m.subject.startswith("Target missed")]

    await eventually(lambda: len(escalated(sponsor)) == 1 and len(escalated(am)) == 1)
    assert (
        escalated(sponsor)[0].subject
        == "Target missed on corporate priority #2: Cost report on time"
    )
    assert "2.5 percent short" in escalated(am)[0].text
    assert escalated(cfo) == [] and escalated(coo) == []
