"""The notifications view applied a batch together plans the same notices, and keeps the same
view, as applied one event at a time: real elicitation events, a real PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from services.elicitation.application import Elicitation as ElicitationApp
from services.notifications.contract_view import TOPICS, batching, handler
from services.notifications.settings import NotifySettings
from shared.bus_memory import InProcessBus
from shared.projection import ProjectionRunner
from shared.runtime import build_runtime
from shared.settings import Settings
from tests.integration.notifications.contract_story import Elicitation, published, view_pool

DM = "client_decision_maker"
TERMS = {
    "metric": "availability", "comparison": "at_least", "target": "99.5", "unit": "percent",
    "recurrence": "monthly", "measurement_method": "monitoring", "measured_by": "provider",
}  # fmt: skip
VIEW_TABLES = ("view_participants", "view_expectations", "view_obligations", "view_risks")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, jwt_secret="notifications-view-batches-secret")


async def story(settings: Settings, bus: InProcessBus) -> None:
    """Two contracts told at once: people join and one leaves, expectations are proposed,
    refined and merged, an obligation is proposed and accepted, a risk disclosed."""
    runtime = await build_runtime("elicitation", ElicitationApp, settings, bus.publisher("e"))
    await runtime.start()
    elicitation = Elicitation(runtime)
    try:
        for am in ("am1", "am2"):
            contract = await elicitation.contract(am, f"{am}@contoso.example")
            await elicitation.join(contract, am, f"{am}-dm1", DM, f"{am}-dm1@northwind.example")
            await elicitation.join(contract, f"{am}-dm1", f"{am}-dm2", DM)
            proposed = []
            for n in range(6):
                by = f"{am}-dm{1 + n % 2}"
                done = await elicitation.run(
                    "propose_expectation", contract, by=by, text=f"Expectation {n}",
                    business_area="ops",
                )  # fmt: skip
                proposed.append(done.id)
            for refined in (proposed[0], proposed[3]):
                await elicitation.run(
                    "refine_expectation", refined, by=am, text="Measured", terms=TERMS,
                    reason="measurable",
                )  # fmt: skip
            await elicitation.run(
                "merge_expectations", proposed[0], proposed[1], by=am, reason="the same"
            )
            await elicitation.run(
                "refine_expectation", proposed[0], by=am, text="Merged", terms=TERMS,
                reason="merged",
            )  # fmt: skip
            obligation = await elicitation.run(
                "propose_obligation", contract, by=am, what="Access to the data centre",
                needed_from=f"{am}-dm1", due_on="2027-03-01",
            )  # fmt: skip
            await elicitation.run("accept_obligation", obligation.id, by=f"{am}-dm1")
            await elicitation.run(
                "disclose_risk", contract, by=am, kind="problem", title="Data centre move",
                description="Moving", likelihood=4, impact=4,
                affected_expectations=[str(proposed[0])],
            )  # fmt: skip
            await elicitation.run("leave_contract", contract, by=f"{am}-dm1", person_id=f"{am}-dm2")
            await elicitation.run(
                "propose_expectation", contract, by=f"{am}-dm1", text="After leaving",
                business_area="ops",
            )  # fmt: skip
        await runtime.relay.publish_next_batch()
    finally:
        await runtime.stop()


async def kept(pool: asyncpg.Pool) -> dict[str, list[Any]]:
    """The inbox in order, and the view's rows."""
    found = {
        "inbox": [
            tuple(r)
            for r in await pool.fetch("SELECT kind, payload, causation_id FROM inbox ORDER BY seq")
        ]
    }
    for table in VIEW_TABLES:
        found[table] = sorted(
            tuple(map(str, r)) for r in await pool.fetch(f"SELECT * FROM {table}")
        )
    return found


# Batches of 7 meet contracts' events and the snapshots read across batches; one batch of all
# keeps each contract's snapshot in memory from its first notice to its last.
@pytest.mark.parametrize("batch", [7, 1000])
async def test_a_batch_applied_together_plans_what_each_event_applied_alone_plans(
    settings: Settings, batch: int
) -> None:
    bus = InProcessBus()
    await story(settings, bus)
    messages = await published(bus)
    assert len(messages) > 30
    notify = NotifySettings()
    found = {}
    for way, together in (("together", batching(notify)), ("alone", None)):
        async with view_pool(settings, f"view_batches_{way}_{batch}_{uuid4().hex[:6]}") as pool:
            runner = ProjectionRunner(
                f"view-{way}", bus.consumer(TOPICS), pool, handler(notify), batching=together
            )
            await runner.create_tables()
            for start in range(0, len(messages), batch):
                result = await runner.apply_batch(messages[start : start + batch])
                assert result.dead_lettered == 0
            found[way] = await kept(pool)
    assert found["together"]["inbox"], "the story plans notices"
    assert found["together"] == found["alone"]
