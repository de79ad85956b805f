"""Kafka orders nothing across elicitation's and ranking's topics: the notifications view may
apply a missed target before the corporate ranking published ahead of it. The miss waits for
that ranking and is planned as it ranks it, as when the two arrive in order; a ranking
published after the miss never makes it a priority's miss, whether it arrives after the miss
or before it. Real elicitation and ranking
events, a real PostgreSQL, the view applied a batch together and one event at a time."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.elicitation.application import Elicitation as ElicitationApp
from services.notifications.contract_view import TOPICS, batching, handler
from services.notifications.settings import NotifySettings
from services.ranking.application import Prioritizations
from services.ranking.result import Method
from shared.bus import Message
from shared.bus_memory import InProcessBus
from shared.projection import ProjectionRunner
from shared.runtime import build_runtime
from shared.settings import Settings
from shared.telemetry import continue_trace
from tests.integration.notifications.contract_story import Elicitation, published, view_pool

DM = "client_decision_maker"
TERMS = {
    "metric": "availability", "comparison": "at_least", "target": "99.5", "unit": "percent",
    "recurrence": "monthly", "measurement_method": "monitoring", "measured_by": "provider",
}  # fmt: skip
WAYS = {"together": True, "alone": False}
# The trace the miss is recorded in: its notices go in it, held or not.
MISS_TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, jwt_secret="notifications-held-misses-secret")


async def story(settings: Settings, bus: InProcessBus, *, ranked_first: bool) -> str:
    """A contract of three measurable expectations, ranked by its two decision makers; the
    top priority misses its target, after the ranking is published or before it. Answers
    the contract."""
    elicitation_runtime = await build_runtime(
        "elicitation", ElicitationApp, settings, bus.publisher("e")
    )
    ranking = await build_runtime("ranking", Prioritizations, settings, bus.publisher("r"))
    elicitation = Elicitation(elicitation_runtime)
    try:
        contract = await elicitation.contract("am", "am@contoso.example")
        await elicitation.join(contract, "am", "sponsor", "client_sponsor", "ceo@n.example")
        for dm in ("cfo", "coo"):
            await elicitation.join(contract, "sponsor", dm, DM, f"{dm}@n.example")
        expectations = []
        for text in ("Warehouse up", "Cost report on time", "Invoices right"):
            proposed = await elicitation.run(
                "propose_expectation", contract, by="cfo", text=text, business_area="ops"
            )
            await elicitation.run(
                "refine_expectation", proposed.id, by="am", text=text, terms=TERMS,
                reason="measurable",
            )  # fmt: skip
            expectations.append(str(proposed.id))

        async def miss() -> None:
            with continue_trace(MISS_TRACE, "record measurement"):
                await elicitation.run(
                    "record_measurement", UUID(expectations[0]), by="am",
                    period_start="2026-12-01", period_end="2026-12-31", value="97.0",
                    source="monitoring export",
                )  # fmt: skip

        if not ranked_first:
            await miss()
        opened = await ranking.execute(
            ranking.app.open_prioritization, UUID(contract), expectations, ["cfo", "coo"],
            Method.SCHULZE, "am", actor_id="am", actor_role="provider_account_manager",
        )  # fmt: skip
        for voter in ("cfo", "coo"):
            await ranking.execute(
                ranking.app.cast_vote, opened.id, voter, {"ranking": expectations},
                actor_id=voter, actor_role=DM,
            )  # fmt: skip
        await ranking.execute(
            ranking.app.close_prioritization, opened.id, "am", actor_id="am", actor_role="am"
        )
        if ranked_first:
            await miss()
        for runtime in (elicitation_runtime, ranking):
            while await runtime.relay.publish_next_batch():
                pass
        return contract
    finally:
        await elicitation_runtime.stop()
        await ranking.stop()


async def told(settings: Settings, *, ranked_first: bool) -> list[Message]:
    """The story's events, in the order they happened (each relay published its service's
    events at the end; the stores hold other tests' too)."""
    bus = InProcessBus()
    contract = await story(settings, bus, ranked_first=ranked_first)
    ours = [m for m in await published(bus) if m.envelope().key == contract]
    return sorted(ours, key=lambda m: m.envelope().time)


def named(messages: Sequence[Message], name: str) -> Message:
    (found,) = [m for m in messages if m.envelope().spec.name == name]
    return found


def miss_first(messages: list[Message]) -> list[Message]:
    """The miss moved before the ranking's publication, as a lagging ranking partition has it."""
    miss = named(messages, "MeasurementRecorded")
    ranking = named(messages, "CorporatePrioritiesPublished")
    rest = [m for m in messages if m is not miss]
    at = rest.index(ranking)
    return [*rest[:at], miss, *rest[at:]]


async def viewed(settings: Settings, messages: list[Message], together: bool) -> dict[str, Any]:
    """What the view planned for the miss (whom, how, with what subject; in which traces), and
    what it holds."""
    notify = NotifySettings()
    miss = named(messages, "MeasurementRecorded").envelope().id
    async with view_pool(settings, f"held_misses_{uuid4().hex[:10]}") as pool:
        runner = ProjectionRunner(
            "held-misses", InProcessBus().consumer(TOPICS), pool, handler(notify),
            batching=batching(notify) if together else None,
        )  # fmt: skip
        await runner.create_tables()
        result = await runner.apply_batch(messages)
        assert result.dead_lettered == 0
        queued = await pool.fetch(
            "SELECT payload FROM inbox WHERE kind = 'queue' AND causation_id = $1", miss
        )
        planned = [p for row in queued for p in json.loads(row["payload"])["plans"]]
        plans = sorted((p["person_id"], p["channel"], p["subject"]) for p in planned)
        held = await pool.fetchval("SELECT count(*) FROM view_held_misses")
    return {"plans": plans, "held": held, "traces": sorted({p["traceparent"] for p in planned})}


@pytest.mark.parametrize("way", WAYS)
async def test_a_miss_applied_before_the_ranking_published_ahead_of_it_escalates_as_in_order(
    settings: Settings, way: str
) -> None:
    messages = await told(settings, ranked_first=True)
    in_order = await viewed(settings, messages, WAYS[way])
    assert in_order["held"] == 0
    escalated = {person for person, _, subject in in_order["plans"]}
    assert {"sponsor", "am"} <= escalated, in_order  # the top priority missed its target
    assert all("corporate priority #1" in subject for _, _, subject in in_order["plans"])
    assert in_order["traces"] == [MISS_TRACE]

    out_of_order = await viewed(settings, miss_first(messages), WAYS[way])
    assert out_of_order == in_order


@pytest.mark.parametrize("way", WAYS)
async def test_a_ranking_published_after_a_miss_does_not_make_it_a_priority_miss(
    settings: Settings, way: str
) -> None:
    messages = await told(settings, ranked_first=False)
    # In order: the miss waits for a ranking; the one that comes was published after it.
    assert await viewed(settings, messages, WAYS[way]) == {"plans": [], "held": 0, "traces": []}


def ranking_first(messages: list[Message]) -> list[Message]:
    """The ranking moved before the miss it was published after, as a lagging elicitation
    partition has it."""
    miss = named(messages, "MeasurementRecorded")
    ranking = named(messages, "CorporatePrioritiesPublished")
    rest = [m for m in messages if m is not ranking]
    at = rest.index(miss)
    return [*rest[:at], ranking, *rest[at:]]


@pytest.mark.parametrize("way", WAYS)
async def test_a_ranking_published_after_a_miss_but_applied_first_does_not_rank_it_either(
    settings: Settings, way: str
) -> None:
    """The view keeps when each ranking was published: a miss is planned by the one in force
    when it happened, whichever arrived first."""
    messages = await told(settings, ranked_first=False)
    reordered = ranking_first(messages)
    assert reordered.index(named(reordered, "CorporatePrioritiesPublished")) < reordered.index(
        named(reordered, "MeasurementRecorded")
    )
    assert await viewed(settings, reordered, WAYS[way]) == {"plans": [], "held": 0, "traces": []}
