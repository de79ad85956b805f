"""Property: any sequence of commands, replayed from its stored events, rebuilds the same state.

The commands come from hypothesis, valid and invalid alike, by anyone: a refused command must
store nothing, and every aggregate a command left in memory must equal the one a fresh
application rebuilds from the stored events alone (through their JSON, as after a restart).
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from services.elicitation.application import Elicitation as ElicitationApp
from services.elicitation.errors import ElicitationError
from tests.unit.elicitation.story import (
    AMIRA,
    GRACE,
    LI,
    OLIVE,
    POPO,
    SAM,
    STRANGER,
    TOM,
    Story,
)

EVERYONE = [AMIRA, SAM, LI, TOM, GRACE, OLIVE, STRANGER]
PEOPLE = st.sampled_from(EVERYONE)


def mostly(*people: str) -> st.SearchStrategy[str]:
    """Usually someone allowed to act, sometimes anyone: most commands land, some are refused."""
    return st.sampled_from([*people] * 4 + EVERYONE)


PROVIDER = mostly(AMIRA, SAM)
CLIENT = mostly(LI, TOM)
TEXT = st.sampled_from(["Scanners fixed fast", "Reports by the 5th"] * 4 + ["", "x" * 2001])
VERSION = st.none() | st.none() | st.integers(min_value=1, max_value=12)
NUMBER = st.decimals(min_value=-5, max_value=200, places=2, allow_nan=False) | st.sampled_from(
    [95, 99.9, "4", "n/a"]
)
DAY = st.dates(min_value=date(2025, 3, 1), max_value=date(2025, 12, 31))
COMPARISON = st.sampled_from(["at_least", "at_most", "equal", "within_range"])
MEASURABLE_TERMS = st.fixed_dictionaries(
    {
        "metric": st.just("P1 resolution rate"),
        "comparison": COMPARISON,
        "target": st.integers(0, 100),
        "unit": st.just("percent"),
        "measurement_method": st.just("Ticket export"),
    },
    optional={"target_upper": st.integers(50, 150), "recurrence": st.just("monthly")},
)
ANY_TERMS = st.fixed_dictionaries(
    {},
    optional={
        "metric": st.sampled_from(["", "P1 resolution rate", "Report delivery day"]),
        "comparison": st.none() | COMPARISON,
        "target": st.none() | NUMBER,
        "target_upper": st.none() | NUMBER,
        "unit": st.sampled_from(["", "percent", "working days"]),
        "deadline": st.none() | DAY,
        "recurrence": st.sampled_from([None, "monthly", "quarterly"]),
        "measurement_method": st.sampled_from(["", "Ticket export"]),
        "measured_by": st.sampled_from(["", "Client PMO"]),
    },
)
TERMS = st.one_of(MEASURABLE_TERMS, MEASURABLE_TERMS, ANY_TERMS)


class RememberingExpectations(ElicitationApp):
    """Keeps the aggregates the commands left in memory, to compare with their replay."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.live: dict[Any, Any] = {}

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        for aggregate in objs:
            self.live[aggregate.id] = aggregate
        return recordings


class Elicitation(RuleBasedStateMachine):
    expectations = Bundle("expectations")
    obligations = Bundle("obligations")
    risks = Bundle("risks")
    lessons = Bundle("lessons")
    questions = Bundle("questions")
    measurements = Bundle("measurements")
    gaps = Bundle("gaps")

    def __init__(self) -> None:
        super().__init__()
        self.story = Story(RememberingExpectations(env=POPO))
        self.app = self.story.app
        self.contract = self.story.contract_id
        self.replica = ElicitationApp(env=POPO)
        self.copied = 0

    # Runs start from a meeting already under way, so the later commands get their turn.

    @initialize(target=expectations)
    def a_committed_expectation(self) -> Any:
        return self.story.committed()

    @initialize(target=expectations, terms=MEASURABLE_TERMS)
    def a_measurable_expectation(self, terms: dict) -> Any:
        expectation = self.story.proposed()
        self.attempt(
            self.app.refine_expectation,
            expectation,
            by=SAM,
            text="Measurable now",
            terms=terms,
            reason="Agreed",
        )
        return expectation

    @initialize(target=gaps, value=st.integers(0, 94))
    def an_acknowledged_gap(self, value: int) -> Any:
        expectation = self.story.committed()
        measurement = self.story.measured(expectation, value).created
        gap = self.story.do(
            self.app.acknowledge_gap, expectation, measurement, by=AMIRA, cause="Staff"
        )
        return expectation, gap.created

    @initialize(target=questions)
    def an_answered_question(self) -> Any:
        asked = self.story.do(
            self.app.ask_question,
            self.contract,
            by=AMIRA,
            asked_of=LI,
            business_area="Ops",
            text="Peak season?",
        )
        self.story.do(self.app.answer_question, self.contract, asked.created, by=LI, answer="Q4")
        return asked.created

    def attempt(self, command: Any, *args: Any, by: str, **kwargs: Any) -> Any:
        """The command's result, or None when refused; a refusal stores nothing."""
        before = self.app.recorder.max_notification_id()
        try:
            return self.story.do(command, *args, by=by, **kwargs)
        except ElicitationError as refusal:
            assert refusal.code and refusal.message
            assert self.app.recorder.max_notification_id() == before
            return None

    @staticmethod
    def kept(result: Any, value: Any) -> Any:
        return multiple() if result is None else value

    # Contract

    @rule(by=mostly(AMIRA, GRACE), person=st.sampled_from(["pat@harbour.example", TOM, STRANGER]))
    def join(self, by: str, person: str) -> None:
        self.attempt(
            self.app.join_contract,
            self.contract,
            by=by,
            person_id=person,
            name="Pat",
            role="client_decision_maker",
        )

    @rule(by=PEOPLE, person=st.sampled_from([TOM, GRACE, STRANGER]), version=VERSION)
    def leave(self, by: str, person: str, version: int | None) -> None:
        self.attempt(
            self.app.leave_contract,
            self.contract,
            by=by,
            person_id=person,
            reason="Moved on",
            expected_version=version,
        )

    @rule(target=questions, by=PROVIDER, asked_of=CLIENT, text=TEXT)
    def ask(self, by: str, asked_of: str, text: str) -> Any:
        asked = self.attempt(
            self.app.ask_question,
            self.contract,
            by=by,
            asked_of=asked_of,
            business_area="Ops",
            text=text,
        )
        return self.kept(asked, asked and asked.created)

    @rule(question=questions, by=mostly(LI, AMIRA), answer=TEXT)
    def answer(self, question: Any, by: str, answer: str) -> None:
        self.attempt(self.app.answer_question, self.contract, question, by=by, answer=answer)

    # Expectations

    @rule(
        target=expectations,
        by=CLIENT,
        text=TEXT,
        cited=st.just([]) | st.just([]) | st.lists(questions, max_size=1),
    )
    def propose(self, by: str, text: str, cited: list[Any]) -> Any:
        proposed = self.attempt(
            self.app.propose_expectation,
            self.contract,
            by=by,
            text=text,
            business_area="Ops",
            from_answers=cited,
        )
        return self.kept(proposed, proposed and proposed.id)

    @rule(expectation=expectations, by=PROVIDER, text=TEXT, terms=TERMS, version=VERSION)
    def refine(self, expectation: Any, by: str, text: str, terms: dict, version: Any) -> None:
        self.attempt(
            self.app.refine_expectation,
            expectation,
            by=by,
            text=text,
            terms=terms,
            reason="Clarified",
            expected_version=version,
        )

    @rule(expectation=expectations, by=PEOPLE)
    def withdraw(self, expectation: Any, by: str) -> None:
        self.attempt(self.app.withdraw_expectation, expectation, by=by, reason="Not needed")

    @rule(kept=expectations, duplicate=expectations, by=PROVIDER)
    def merge(self, kept: Any, duplicate: Any, by: str) -> None:
        self.attempt(self.app.merge_expectations, kept, duplicate, by=by, reason="Duplicates")

    @rule(
        expectation=expectations,
        by=PROVIDER,
        importance=st.sampled_from([None, "high", "huge"]),
        feasibility=st.sampled_from([None, "stretch"]),
    )
    def advise(self, expectation: Any, by: str, importance: Any, feasibility: Any) -> None:
        self.attempt(
            self.app.give_provider_advice,
            expectation,
            by=by,
            importance=importance,
            feasibility=feasibility,
            advice="Needs spares",
        )

    @rule(expectation=expectations, by=PROVIDER, commit=st.booleans())
    def decide(self, expectation: Any, by: str, commit: bool) -> None:
        if commit:
            self.attempt(self.app.commit_to_expectation, expectation, by=by)
        else:
            self.attempt(self.app.decline_expectation, expectation, by=by, reason="Cannot")

    # Obligations

    @rule(target=obligations, by=PROVIDER, needed_from=CLIENT, depends=st.lists(expectations))
    def propose_obligation(self, by: str, needed_from: str, depends: list[Any]) -> Any:
        proposed = self.attempt(
            self.app.propose_obligation,
            self.contract,
            by=by,
            what="Access to the WMS",
            needed_from=needed_from,
            due_on="2025-03-15",
            depends_on=depends,
        )
        return self.kept(proposed, proposed and proposed.id)

    @rule(
        obligation=obligations,
        by=mostly(LI, SAM),
        act=st.sampled_from(["accept", "decline", "fulfil", "breach"]),
    )
    def settle_obligation(self, obligation: Any, by: str, act: str) -> None:
        commands = {
            "accept": (self.app.accept_obligation, {}),
            "decline": (self.app.decline_obligation, {"reason": "Policy"}),
            "fulfil": (self.app.fulfil_obligation, {"note": "Done"}),
            "breach": (self.app.breach_obligation, {"what_happened": "Late"}),
        }
        command, fields = commands[act]
        self.attempt(command, obligation, by=by, **fields)

    # Risks and lessons

    @rule(
        target=risks,
        by=PROVIDER,
        kind=st.sampled_from(["problem", "preconditioning"]),
        likelihood=st.integers(0, 6),
        affected=st.lists(expectations, max_size=2),
        prepare_for=st.sampled_from(["", "Budget for scanners"]),
    )
    def disclose(
        self, by: str, kind: str, likelihood: int, affected: list[Any], prepare_for: str
    ) -> Any:
        disclosed = self.attempt(
            self.app.disclose_risk,
            self.contract,
            by=by,
            kind=kind,
            title="Firmware",
            description="Support ends",
            likelihood=likelihood,
            impact=3,
            affected_expectations=affected,
            prepare_for=prepare_for,
        )
        return self.kept(disclosed, disclosed and disclosed.id)

    @rule(risk=risks, by=mostly(LI, SAM), act=st.sampled_from(["acknowledge", "remedy", "resolve"]))
    def manage_risk(self, risk: Any, by: str, act: str) -> None:
        if act == "acknowledge":
            self.attempt(self.app.acknowledge_risk, risk, by=by)
        elif act == "remedy":
            self.attempt(self.app.record_remedial_action, risk, by=by, action="Rolled back")
        else:
            self.attempt(self.app.resolve_risk, risk, by=by, resolution="Replaced")

    @rule(
        target=lessons,
        by=PROVIDER,
        risk_ids=st.lists(risks, max_size=2),
        expectation_ids=st.lists(expectations, max_size=2),
    )
    def learn(self, by: str, risk_ids: list[Any], expectation_ids: list[Any]) -> Any:
        learned = self.attempt(
            self.app.record_lesson_learned,
            self.contract,
            by=by,
            lesson="Pilot first",
            risk_ids=risk_ids,
            expectation_ids=expectation_ids,
        )
        return self.kept(learned, learned and learned.id)

    @rule(lesson=lessons, by=PROVIDER, owner=PROVIDER, due_on=DAY)
    def prevent(self, lesson: Any, by: str, owner: str, due_on: date) -> None:
        self.attempt(
            self.app.plan_preventive_action,
            lesson,
            by=by,
            action="Pilot stage",
            owner=owner,
            due_on=due_on,
        )

    # Delivery

    @rule(target=measurements, expectation=expectations, by=PROVIDER, value=NUMBER)
    def measure(self, expectation: Any, by: str, value: Any) -> Any:
        measured = self.attempt(
            self.app.record_measurement,
            expectation,
            by=by,
            period_start=date(2025, 5, 1),
            period_end=date(2025, 5, 1) + timedelta(days=30),
            value=value,
            source="Export",
        )
        return self.kept(measured, measured and (expectation, measured.created))

    @rule(target=gaps, measured=measurements, by=PROVIDER)
    def acknowledge_gap(self, measured: Any, by: str) -> Any:
        expectation, measurement = measured
        acknowledged = self.attempt(
            self.app.acknowledge_gap, expectation, measurement, by=by, cause="Staff"
        )
        return self.kept(acknowledged, acknowledged and (expectation, acknowledged.created))

    @rule(
        gap=gaps,
        by=PROVIDER,
        agreed_with=CLIENT,
        owners=st.lists(mostly(SAM, LI), max_size=3),
        revised=st.none() | NUMBER,
    )
    def plan(self, gap: Any, by: str, agreed_with: str, owners: list[str], revised: Any) -> None:
        expectation, gap_id = gap
        self.attempt(
            self.app.agree_recovery_plan,
            expectation,
            gap_id,
            by=by,
            agreed_with=agreed_with,
            steps=[{"action": "Hire", "owner": o, "due_on": "2025-07-15"} for o in owners],
            revised_target=revised,
        )

    @rule(gap=gaps, step=st.integers(1, 3), by=mostly(SAM, LI))
    def complete_step(self, gap: Any, step: int, by: str) -> None:
        expectation, gap_id = gap
        self.attempt(self.app.complete_recovery_step, expectation, gap_id, step, by=by)

    @rule(expectation=consumes(expectations))
    def forget(self, expectation: Any) -> None:
        """Let later rules pick other expectations more often (nothing is stored)."""

    # The property

    @invariant()
    def replaying_the_stored_events_rebuilds_what_the_commands_left(self) -> None:
        # Copy only the stored events (their JSON), as a restarted process would read them.
        new = self.app.recorder.select_notifications(self.copied + 1, 10_000)
        self.replica.recorder.insert_events(
            [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in new]
        )
        if new:
            self.copied = new[-1].id
        for aggregate_id, live in self.app.live.items():
            replayed = self.replica.repository.get(aggregate_id)
            assert type(replayed) is type(live)
            assert vars(replayed) == vars(live), f"{type(live).__name__} {aggregate_id}"


Elicitation.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_any_sequence_of_commands_replayed_from_its_events_rebuilds_the_same_state = (
    Elicitation.TestCase
)


def test_the_property_reaches_measurements_gaps_and_plans() -> None:
    """A fixed run through the machine, so the property is seen to cover delivery too."""
    machine = Elicitation()
    expectation = machine.propose(by=LI, text="Scanners fixed fast", cited=[])
    machine.refine(
        expectation,
        by=AMIRA,
        text="P1 fixed in 4 hours",
        terms={
            "metric": "P1 rate",
            "comparison": "at_least",
            "target": Decimal("95"),
            "unit": "percent",
            "measurement_method": "Export",
        },
        version=None,
    )
    measured = machine.measure(expectation, by=SAM, value=Decimal("90.25"))
    gap = machine.acknowledge_gap(measured, by=AMIRA)
    machine.plan(gap, by=AMIRA, agreed_with=LI, owners=[SAM, LI], revised=92)
    machine.complete_step(gap, step=2, by=LI)
    machine.replaying_the_stored_events_rebuilds_what_the_commands_left()
    replayed = machine.replica.get_expectation(expectation)
    assert replayed.terms.target == Decimal("92")
    assert replayed.gaps[gap[1]].steps[1].completed
    machine.teardown()
