"""Snapshots: an aggregate loaded from a snapshot and the events after it is the one its whole
history rebuilds, and a contract with a long history is loaded without replaying all of it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import project_aggregate
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant

from services.elicitation.application import Elicitation as ElicitationApp
from services.elicitation.contract import Contract
from services.elicitation.snapshots import (
    SNAPSHOT_EVERY,
    StateSnapshot,
    UnknownSnapshotType,
    decode,
    encode,
)
from shared.commands.elicitation import Comparison, Role, Side
from tests.unit.elicitation.old_questions import asked_the_old_way
from tests.unit.elicitation.story import AMIRA, LI, POPO, Story
from tests.unit.elicitation.test_replay_property import Elicitation


def through_json(app: ElicitationApp, aggregate: Any) -> Any:
    """The aggregate as a snapshot stored now would give it back (through its JSON)."""
    stored = app.mapper.to_stored_event(StateSnapshot.take(aggregate))
    return app.mapper.to_domain_event(stored).mutate(None)


class Snapshotted(Elicitation):
    @invariant()
    def a_snapshot_gives_back_what_the_commands_left(self) -> None:
        for aggregate_id, live in self.app.live.items():
            rebuilt = through_json(self.app, live)
            assert type(rebuilt) is type(live)
            assert vars(rebuilt) == vars(live), f"{type(live).__name__} {aggregate_id}"


Snapshotted.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_any_aggregate_the_commands_leave_comes_back_whole_from_a_snapshot = Snapshotted.TestCase


def test_a_delivered_expectation_comes_back_whole_from_a_snapshot() -> None:
    """A fixed run, so delivery's values (decimals, dates, gaps, plans) are seen to be covered."""
    machine = Snapshotted()
    expectation = machine.story.committed()
    measured = machine.measure(expectation, by="sam.osei@northgate.example", value=90)
    gap = machine.acknowledge_gap(measured, by=AMIRA)
    machine.plan(gap, by=AMIRA, agreed_with=LI, owners=[LI], revised=92)
    machine.a_snapshot_gives_back_what_the_commands_left()
    assert through_json(machine.app, machine.app.get_expectation(expectation)).gaps
    machine.teardown()


def history(story: Story, events: int) -> None:
    """`events` more events on the contract: people of the provider join, and leave again."""
    for number in range(events):
        person = f"lead{number // 2}@northgate.example"
        if number % 2 == 0:
            story.do(
                story.app.join_contract,
                story.contract_id,
                by=AMIRA,
                person_id=person,
                name="Lead",
                role="provider_delivery_lead",
            )
        else:
            story.do(story.app.leave_contract, story.contract_id, by=AMIRA, person_id=person)


def test_a_contract_with_a_long_history_loads_from_its_latest_snapshot() -> None:
    story = Story()
    # A question recorded on the contract's stream, as earlier versions did, is kept in its
    # snapshots like the rest of its state.
    old = asked_the_old_way(story.app, story.contract_id, asked_of=LI, asked_by=AMIRA, answer="Q4")
    history(story, 3 * SNAPSHOT_EVERY)
    contract = story.app.get_contract(story.contract_id)
    read: list[int] = []
    get = story.app.repository.event_store.get

    def counting(*args: Any, **kwargs: Any) -> Any:
        events = list(get(*args, **kwargs))
        read.append(len(events))
        return events

    story.app.repository.event_store.get = counting  # type: ignore[method-assign]
    loaded = story.app.get_contract(story.contract_id)

    [snapshot] = story.app.snapshots.get(story.contract_id, desc=True, limit=1)  # type: ignore[union-attr]
    assert snapshot.originator_version == contract.version // SNAPSHOT_EVERY * SNAPSHOT_EVERY
    assert sum(read) < SNAPSHOT_EVERY
    replayed = project_aggregate(None, story.app.events.get(story.contract_id))
    assert vars(loaded) == vars(replayed) == vars(contract)
    assert loaded.questions[old].answer == "Q4"


def test_the_snapshots_are_not_in_the_log_that_is_published() -> None:
    story = Story()
    history(story, SNAPSHOT_EVERY)
    events = list(story.app.events.get(story.contract_id))

    logged = story.app.recorder.select_notifications(1, 10_000)

    assert story.app.snapshots is not None
    assert list(story.app.snapshots.get(story.contract_id))
    assert all(n.topic != "services.elicitation.snapshots:StateSnapshot" for n in logged)
    assert len([n for n in logged if n.originator_id == story.contract_id]) == len(events)


def test_a_failed_snapshot_leaves_the_command_done(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = Story()
    version = story.app.get_contract(story.contract_id).version

    def broken(aggregate: Any) -> Any:
        raise TypeError("cannot encode")

    monkeypatch.setattr(StateSnapshot, "take", broken)
    history(story, SNAPSHOT_EVERY - version % SNAPSHOT_EVERY)

    assert story.app.get_contract(story.contract_id).version % SNAPSHOT_EVERY == 0
    assert "no snapshot of" in caplog.text


def test_a_snapshot_naming_a_class_not_of_elicitation_is_refused() -> None:
    forged = StateSnapshot(
        originator_id=UUID(int=1),
        originator_version=1,
        timestamp=StateSnapshot.create_timestamp(),
        topic="services.elicitation.contract:Contract",
        state={"title": {"~dataclass": ["subprocess:Popen", {}]}},
    )
    with pytest.raises(UnknownSnapshotType):
        forged.mutate(None)


def test_a_snapshot_taken_before_the_roles_moved_to_the_declarations_still_loads() -> None:
    """Roles, sides, comparisons... are declared with the commands now; older snapshots name
    them in the domain's modules."""
    assert decode({"~enum": ["services.elicitation.participants:Role", "auditor"]}) is Role.AUDITOR
    assert decode({"~enum": ["services.elicitation.terms:Comparison", "at_most"]}) is (
        Comparison.AT_MOST
    )
    assert decode(encode(Side.CLIENT)) is Side.CLIENT


def test_the_contract_uses_the_json_snapshot() -> None:
    assert Contract.Snapshot is StateSnapshot
    assert ElicitationApp(env=POPO).snapshots is not None
