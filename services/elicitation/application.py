"""The elicitation service's application: one method per command, named as the command is
declared (shared/commands/elicitation.py), and its queries.

Every command names the person acting (`by`) and is checked against the contract's
participants before anything is stored; each aggregate it needs is loaded once, and the role
the person holds on the contract is stamped on what it stores. Commands on an existing
aggregate may name the version they were based on (`expected_version`); a stale one is
refused as CONFLICT, and so is a command that lost a race with another one on the same
aggregate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import (
    AggregateNotFoundError,
    ProjectorFunction,
    project_aggregate,
)
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from services.elicitation import inputs
from services.elicitation.agreed_set_view import Listed
from services.elicitation.assumption import Assumption
from services.elicitation.baseline import Baseline, freeze
from services.elicitation.baseline_errors import UnknownBaseline
from services.elicitation.contract import Contract, participant
from services.elicitation.delivery import PlannedStep
from services.elicitation.errors import (
    NotFound,
    StoredAtTheSameTime,
    UnknownContract,
    UnknownExpectation,
    UnknownLesson,
    UnknownObligation,
    UnknownQuestion,
    UnknownRisk,
    VersionConflict,
)
from services.elicitation.expectation import Expectation
from services.elicitation.lesson import Lesson
from services.elicitation.obligation import Obligation
from services.elicitation.participants import CLIENT_PEOPLE, DECISION_MAKERS, Act
from services.elicitation.question import Asked, Question, check_cited
from services.elicitation.risk import Risk
from services.elicitation.snapshots import SNAPSHOT_EVERY
from services.elicitation.suspect_link import SuspectLink, UnknownSuspect
from services.elicitation.suspect_rule import suspects
from services.elicitation.suspect_view import Candidates
from services.elicitation.terms import MeasurableTerms
from shared.commands.baselines import Meaning
from shared.commands.elicitation import Feasibility, Importance, RiskKind, Role, Side
from shared.commands.result import CommandResult, command_result
from shared.commands.suspects import ReviewOutcome
from shared.eventstore import AccordAggregate, AccordApplication, DateAsISO
from shared.provenance import acting_as, current_provenance

T = TypeVar("T", bound=AccordAggregate)
# A refinement told of nothing that rests on it flags only what it holds itself (a commitment).
NO_CANDIDATES = Candidates()
log = logging.getLogger(__name__)


class Elicitation(AccordApplication):
    """Contracts, their expectations, obligations, risks and lessons, and delivery against them."""

    name = "elicitation"
    # Aggregates that grow with a contract's history load from a snapshot and the events after
    # it: a command's cost stays the same however old the contract is.
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {
        Contract: SNAPSHOT_EVERY,
        Expectation: SNAPSHOT_EVERY,
        Risk: SNAPSHOT_EVERY,
        Lesson: SNAPSHOT_EVERY,
    }

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        """A snapshot is a cache: when one cannot be taken, the command that stored its events
        still succeeded, and the aggregate loads from its events as before."""
        try:
            super().take_snapshot(aggregate_id, version, projector_func)
        except Exception:
            log.warning("no snapshot of %s at version %s", aggregate_id, version, exc_info=True)

    # Contract and participants

    def open_contract(
        self,
        *,
        by: str,
        client_organisation: str,
        provider_organisation: str,
        title: str,
        starts_on: date | str,
        name: str,
        role: Role | str,
        side: Side | str | None = None,
        email: str = "",
        phone: str = "",
    ) -> CommandResult:
        """Open a contract; the opener (`name`, `role`, contact details) joins it at once."""
        contract = Contract.open(
            contract_id=uuid4(),
            client_organisation=client_organisation,
            provider_organisation=provider_organisation,
            title=title,
            starts_on=starts_on,
            opener=participant(
                person_id=by, name=name, role=role, side=side, email=email, phone=phone
            ),
        )
        return self._store(contract, role=acting_role(contract, by))

    def join_contract(
        self,
        contract_id: inputs.Id,
        *,
        by: str,
        person_id: str,
        name: str,
        role: Role | str,
        side: Side | str | None = None,
        email: str = "",
        phone: str = "",
        expected_version: int | None = None,
        administrator: bool = False,
    ) -> CommandResult:
        """`by` appoints a participant (see contract.py for who may appoint whom); an auditor is
        nominated by one side and joins when the other confirms. `administrator` says that `by`
        is one of the configured administrators, who may appoint anyone at once."""
        contract = self._contract(contract_id, expected_version)
        acting = acting_role(contract, by, administrator=administrator)
        newcomer = participant(
            person_id=person_id, name=name, role=role, side=side, email=email, phone=phone
        )
        contract.join(newcomer, by=by, administrator=administrator)
        return self._store(contract, role=acting)

    def leave_contract(
        self,
        contract_id: inputs.Id,
        *,
        by: str,
        person_id: str,
        reason: str = "",
        expected_version: int | None = None,
        administrator: bool = False,
    ) -> CommandResult:
        """A participant leaves, or `by` (their side's appointer, or an administrator) removes
        them; a side's last person who can appoint for it stays until a successor joins."""
        contract = self._contract(contract_id, expected_version)
        acting = acting_role(contract, by, administrator=administrator)
        contract.leave(person_id, reason=reason, by=by, administrator=administrator)
        return self._store(contract, role=acting)

    def ask_question(
        self,
        contract_id: inputs.Id,
        *,
        by: str,
        asked_of: str,
        business_area: str,
        text: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        """The provider asks a client decision maker; the question is an aggregate of its own
        (`expected_version` names the contract's, whose people the question is checked on)."""
        contract = self._contract(contract_id, expected_version)
        question = Question.ask(
            question_id=uuid4(),
            contract=contract,
            asked_of=asked_of,
            business_area=business_area,
            text=text,
            by=by,
        )
        return self._store(question, role=acting_role(contract, by), created=question.id)

    def answer_question(
        self,
        contract_id: inputs.Id,
        question_id: inputs.Id,
        *,
        by: str,
        answer: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        """The person asked answers, or the provider's team records it for them; a question
        recorded on the contract's stream (before questions had their own) is answered there.
        `expected_version` names the version of the one that records the answer."""
        contract = self._contract(contract_id)
        asked = inputs.an_id("question_id", question_id)
        acting = acting_role(contract, by)
        question = self._question_on(contract, asked)
        if question is None:
            expect_version(contract, expected_version)
            contract.answer(asked, answer=answer, by=by)
            return self._store(contract, role=acting)
        expect_version(question, expected_version)
        question.answer(answer, by=by, contract=contract)
        return self._store(question, role=acting)

    # Expectations

    def propose_expectation(
        self,
        contract_id: inputs.Id,
        *,
        by: str,
        text: str,
        business_area: str,
        why_it_matters: str = "",
        from_answers: Iterable[inputs.Id] = (),
    ) -> CommandResult:
        """A client decision maker proposes an expectation, citing the answers it came from."""
        contract = self._contract(contract_id)
        contract.authorise(by, Act.PROPOSE_EXPECTATION)
        cited = check_cited(
            (question_id, self._asked_on(contract, question_id))
            for question_id in inputs.ids("from_answers", from_answers)
        )
        expectation = Expectation.propose(
            expectation_id=uuid4(),
            contract_id=contract.id,
            text=text,
            business_area=business_area,
            why_it_matters=why_it_matters,
            from_answers=cited,
            by=by,
        )
        return self._store(expectation, role=acting_role(contract, by))

    def refine_expectation(
        self,
        expectation_id: inputs.Id,
        *,
        by: str,
        text: str,
        terms: MeasurableTerms | Mapping[str, Any],
        reason: str,
        expected_version: int | None = None,
        candidates: Candidates = NO_CANDIDATES,
    ) -> CommandResult:
        """A new revision: reworded text and the complete measurable terms as they now stand
        (a MeasurableTerms, or its fields as typed in: metric, comparison, target, ...).
        What rested on the earlier revision is flagged suspect in the same transaction;
        `candidates` names what may rest on it (the service's view, suspect_view.py)."""
        expectation = self._expectation(expectation_id, expected_version)
        contract = self._contract(expectation.contract_id)
        contract.authorise(by, Act.REFINE_EXPECTATION)
        parsed = terms if isinstance(terms, MeasurableTerms) else MeasurableTerms.parse(terms)
        before, status_before = expectation.revisions[-1], expectation.status
        expectation.refine(
            text=text,
            terms=parsed,
            reason=reason,
            by=by,
            contract_starts_on=contract.starts_on,
        )
        flags = suspects(
            before,
            status_before,
            expectation,
            obligations=[self._obligation(o) for o in candidates.obligations],
            risks=[self._risk(r) for r in candidates.risks],
            baselines=[self._baseline(b) for b in candidates.baselines],
            ranking=candidates.ranking,
        )
        # The flags go first: once the refinement is in a read model, so are they.
        links = [SuspectLink.raise_flag(flag, by=by) for flag in flags]
        return self._store(*links, expectation, role=acting_role(contract, by), answer=expectation)

    def withdraw_expectation(
        self,
        expectation_id: inputs.Id,
        *,
        by: str,
        reason: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        """Its proposers may withdraw it; so may the client's sponsor, who owns the scope."""
        expectation = self._expectation(expectation_id, expected_version)
        contract = self._contract(expectation.contract_id)
        proposer = contract.participant(by).person_id in expectation.proposers
        if not proposer:
            contract.authorise(by, Act.WITHDRAW_EXPECTATION)
        expectation.withdraw(reason=reason, by=by)
        return self._store(expectation, role=acting_role(contract, by))

    def merge_expectations(
        self,
        kept_expectation_id: inputs.Id,
        merged_expectation_id: inputs.Id,
        *,
        by: str,
        reason: str,
        expected_version: int | None = None,
        merged_expected_version: int | None = None,
    ) -> CommandResult:
        """Two stakeholders' duplicates become one: the kept one, with both proposers."""
        kept = self._expectation(kept_expectation_id, expected_version)
        duplicate = self._expectation(merged_expectation_id, merged_expected_version)
        contract = self._contract(kept.contract_id)
        contract.authorise(by, Act.MERGE_EXPECTATIONS)
        kept.absorb(duplicate, reason=reason, by=by)
        return self._store(kept, duplicate, role=acting_role(contract, by))

    def give_provider_advice(
        self,
        expectation_id: inputs.Id,
        *,
        by: str,
        advice: str,
        importance: Importance | str | None = None,
        feasibility: Feasibility | str | None = None,
        expected_version: int | None = None,
    ) -> CommandResult:
        expectation = self._expectation(expectation_id, expected_version)
        contract = self._contract(expectation.contract_id)
        contract.authorise(by, Act.GIVE_ADVICE)
        expectation.give_advice(
            importance=importance, feasibility=feasibility, advice=advice, by=by
        )
        return self._store(expectation, role=acting_role(contract, by))

    def commit_to_expectation(
        self,
        expectation_id: inputs.Id,
        *,
        by: str,
        note: str = "",
        expected_version: int | None = None,
    ) -> CommandResult:
        expectation = self._expectation(expectation_id, expected_version)
        contract = self._contract(expectation.contract_id)
        contract.authorise(by, Act.DECIDE_EXPECTATION)
        expectation.commit(note=note, by=by)
        return self._store(expectation, role=acting_role(contract, by))

    def decline_expectation(
        self,
        expectation_id: inputs.Id,
        *,
        by: str,
        reason: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        expectation = self._expectation(expectation_id, expected_version)
        contract = self._contract(expectation.contract_id)
        contract.authorise(by, Act.DECIDE_EXPECTATION)
        expectation.decline(reason=reason, by=by)
        return self._store(expectation, role=acting_role(contract, by))

    # Obligations

    def propose_obligation(
        self,
        contract_id: inputs.Id,
        *,
        by: str,
        what: str,
        needed_from: str,
        due_on: date | str,
        depends_on: Iterable[inputs.Id] = (),
    ) -> CommandResult:
        """What the provider needs, from which client person, by when, and for which
        expectations."""
        contract = self._contract(contract_id)
        contract.authorise(by, Act.PROPOSE_OBLIGATION)
        contract.in_role(needed_from, CLIENT_PEOPLE, "the person it is needed from")
        obligation = Obligation.propose(
            obligation_id=uuid4(),
            contract_id=contract.id,
            what=what,
            needed_from=needed_from,
            due_on=due_on,
            depends_on=self._expectations_on(contract.id, "depends_on", depends_on),
            by=by,
        )
        return self._store(obligation, role=acting_role(contract, by))

    def accept_obligation(
        self, obligation_id: inputs.Id, *, by: str, expected_version: int | None = None
    ) -> CommandResult:
        obligation = self._obligation(obligation_id, expected_version)
        contract = self._contract(obligation.contract_id)
        contract.authorise(by, Act.DECIDE_OBLIGATION)
        obligation.accept(by=by)
        return self._store(obligation, role=acting_role(contract, by))

    def decline_obligation(
        self,
        obligation_id: inputs.Id,
        *,
        by: str,
        reason: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        obligation = self._obligation(obligation_id, expected_version)
        contract = self._contract(obligation.contract_id)
        contract.authorise(by, Act.DECIDE_OBLIGATION)
        obligation.decline(reason=reason, by=by)
        return self._store(obligation, role=acting_role(contract, by))

    def fulfil_obligation(
        self,
        obligation_id: inputs.Id,
        *,
        by: str,
        note: str = "",
        expected_version: int | None = None,
    ) -> CommandResult:
        obligation = self._obligation(obligation_id, expected_version)
        contract = self._contract(obligation.contract_id)
        contract.authorise(by, Act.SETTLE_OBLIGATION)
        obligation.fulfil(note=note, by=by)
        return self._store(obligation, role=acting_role(contract, by))

    def breach_obligation(
        self,
        obligation_id: inputs.Id,
        *,
        by: str,
        what_happened: str,
        impact: str = "",
        expected_version: int | None = None,
    ) -> CommandResult:
        obligation = self._obligation(obligation_id, expected_version)
        contract = self._contract(obligation.contract_id)
        contract.authorise(by, Act.SETTLE_OBLIGATION)
        obligation.breach(what_happened=what_happened, impact=impact, by=by)
        return self._store(obligation, role=acting_role(contract, by))

    # Risks and lessons

    def disclose_risk(
        self,
        contract_id: inputs.Id,
        *,
        by: str,
        kind: RiskKind | str,
        title: str,
        description: str,
        likelihood: int,
        impact: int,
        affected_expectations: Iterable[inputs.Id] = (),
        prepare_for: str = "",
    ) -> CommandResult:
        contract = self._contract(contract_id)
        contract.authorise(by, Act.DISCLOSE_RISK)
        risk = Risk.disclose(
            risk_id=uuid4(),
            contract_id=contract.id,
            kind=kind,
            title=title,
            description=description,
            likelihood=likelihood,
            impact=impact,
            affected_expectations=self._expectations_on(
                contract.id, "affected_expectations", affected_expectations
            ),
            prepare_for=prepare_for,
            by=by,
        )
        return self._store(risk, role=acting_role(contract, by))

    def acknowledge_risk(
        self, risk_id: inputs.Id, *, by: str, expected_version: int | None = None
    ) -> CommandResult:
        """A client decision maker confirms they were told; only then does disclosure count."""
        risk = self._risk(risk_id, expected_version)
        contract = self._contract(risk.contract_id)
        contract.authorise(by, Act.ACKNOWLEDGE_RISK)
        risk.acknowledge(by=by)
        return self._store(risk, role=acting_role(contract, by))

    def record_remedial_action(
        self,
        risk_id: inputs.Id,
        *,
        by: str,
        action: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        risk = self._risk(risk_id, expected_version)
        contract = self._contract(risk.contract_id)
        contract.authorise(by, Act.MANAGE_RISK)
        risk.take_remedial_action(action=action, by=by)
        return self._store(risk, role=acting_role(contract, by))

    def resolve_risk(
        self,
        risk_id: inputs.Id,
        *,
        by: str,
        resolution: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        risk = self._risk(risk_id, expected_version)
        contract = self._contract(risk.contract_id)
        contract.authorise(by, Act.MANAGE_RISK)
        risk.resolve(resolution=resolution, by=by)
        return self._store(risk, role=acting_role(contract, by))

    def record_lesson_learned(
        self,
        contract_id: inputs.Id,
        *,
        by: str,
        lesson: str,
        risk_ids: Iterable[inputs.Id] = (),
        expectation_ids: Iterable[inputs.Id] = (),
    ) -> CommandResult:
        contract = self._contract(contract_id)
        contract.authorise(by, Act.RECORD_LESSON)
        learned = Lesson.learn(
            lesson_id=uuid4(),
            contract_id=contract.id,
            lesson=lesson,
            risk_ids=self._risks_on(contract.id, risk_ids),
            expectation_ids=self._expectations_on(contract.id, "expectation_ids", expectation_ids),
            by=by,
        )
        return self._store(learned, role=acting_role(contract, by))

    def record_assumption(
        self, contract_id: inputs.Id, *, by: str, text: str, why: str
    ) -> CommandResult:
        """`by` (the provider's team) records what delivery assumes on the contract, and why."""
        contract = self._contract(contract_id)
        contract.authorise(by, Act.RECORD_ASSUMPTION)
        recorded = Assumption.record(
            assumption_id=uuid4(), contract_id=contract.id, text=text, why=why, by=by
        )
        return self._store(recorded, role=acting_role(contract, by))

    def plan_preventive_action(
        self,
        lesson_id: inputs.Id,
        *,
        by: str,
        action: str,
        owner: str,
        due_on: date | str,
        expected_version: int | None = None,
    ) -> CommandResult:
        lesson = self._lesson(lesson_id, expected_version)
        contract = self._contract(lesson.contract_id)
        contract.authorise(by, Act.RECORD_LESSON)
        contract.participant(owner)
        action_id = uuid4()
        lesson.plan_preventive_action(
            action_id=action_id, action=action, owner=owner, due_on=due_on, by=by
        )
        return self._store(lesson, role=acting_role(contract, by), created=action_id)

    # Delivery and gaps

    def record_measurement(
        self,
        expectation_id: inputs.Id,
        *,
        by: str,
        period_start: date | str,
        period_end: date | str,
        value: inputs.Number,
        source: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        """A measured value for a period; whether it met the target is computed from the terms."""
        expectation = self._expectation(expectation_id, expected_version)
        contract = self._contract(expectation.contract_id)
        contract.authorise(by, Act.RECORD_MEASUREMENT)
        measurement = expectation.record_measurement(
            measurement_id=uuid4(),
            period_start=period_start,
            period_end=period_end,
            value=value,
            source=source,
            by=by,
        )
        return self._store(
            expectation, role=acting_role(contract, by), created=measurement.measurement_id
        )

    def acknowledge_gap(
        self,
        expectation_id: inputs.Id,
        measurement_id: inputs.Id,
        *,
        by: str,
        cause: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        expectation = self._expectation(expectation_id, expected_version)
        contract = self._contract(expectation.contract_id)
        contract.authorise(by, Act.MANAGE_GAP)
        gap_id = uuid4()
        expectation.acknowledge_gap(
            gap_id=gap_id,
            measurement_id=inputs.an_id("measurement_id", measurement_id),
            cause=cause,
            by=by,
        )
        return self._store(expectation, role=acting_role(contract, by), created=gap_id)

    def agree_recovery_plan(
        self,
        expectation_id: inputs.Id,
        gap_id: inputs.Id,
        *,
        by: str,
        steps: Sequence[PlannedStep | Mapping[str, Any]],
        agreed_with: str,
        revised_target: inputs.Number | None = None,
        revised_target_upper: inputs.Number | None = None,
        expected_version: int | None = None,
    ) -> CommandResult:
        """The provider records the plan it agreed with a client decision maker (`agreed_with`):
        steps with owners on the contract and dates, and, if agreed, a revised target."""
        expectation = self._expectation(expectation_id, expected_version)
        contract = self._contract(expectation.contract_id)
        contract.authorise(by, Act.MANAGE_GAP)
        contract.in_role(agreed_with, DECISION_MAKERS, "the person the plan was agreed with")
        planned = [PlannedStep.parse(step) for step in steps]
        for step in planned:
            contract.participant(step.owner)
        expectation.agree_recovery_plan(
            gap_id=inputs.an_id("gap_id", gap_id),
            steps=planned,
            revised_target=revised_target,
            revised_target_upper=revised_target_upper,
            agreed_with=agreed_with,
            by=by,
        )
        return self._store(expectation, role=acting_role(contract, by))

    def complete_recovery_step(
        self,
        expectation_id: inputs.Id,
        gap_id: inputs.Id,
        step: int,
        *,
        by: str,
        note: str = "",
        expected_version: int | None = None,
    ) -> CommandResult:
        """The step's owner completes it, or the provider's team records that it is done."""
        expectation = self._expectation(expectation_id, expected_version)
        contract = self._contract(expectation.contract_id)
        gap = inputs.an_id("gap_id", gap_id)
        contract.participant(by)
        if expectation.recovery_step(gap, step).owner != by:
            contract.authorise(by, Act.COMPLETE_RECOVERY_STEP)
        expectation.complete_recovery_step(gap_id=gap, step=step, note=note, by=by)
        return self._store(expectation, role=acting_role(contract, by))

    # Deadline warnings

    def set_deadline_policy(
        self,
        contract_id: inputs.Id,
        *,
        by: str,
        thresholds: Iterable[int],
        acknowledgement_window: timedelta | str,
        expected_version: int | None = None,
    ) -> CommandResult:
        """The contract's deadline policy; the services' timers move with it."""
        contract = self._contract(contract_id, expected_version)
        contract.set_deadline_policy(
            thresholds=thresholds, acknowledgement_window=acknowledgement_window, by=by
        )
        return self._store(contract, role=acting_role(contract, by))

    # Baselines

    def propose_baseline(
        self, contract_id: inputs.Id, *, by: str, title: str, listed: Listed
    ) -> CommandResult:
        """Freeze the agreed set: `listed` names the contract's expectations, obligations and
        risks and its published ranking (the service's view); each is loaded at its version."""
        contract = self._contract(contract_id)
        content = freeze(
            contract,
            [self._expectation(e) for e in listed.expectations],
            [self._obligation(o) for o in listed.obligations],
            [self._risk(r) for r in listed.risks],
            listed.ranking,
        )
        baseline = Baseline.propose(
            baseline_id=uuid4(), contract=contract, title=title, content=content, by=by
        )
        return self._store(baseline, role=acting_role(contract, by))

    def sign_baseline(
        self,
        baseline_id: inputs.Id,
        *,
        by: str,
        meaning: Meaning | str,
        authenticated_at: datetime,
        now: datetime,
        max_age: timedelta,
    ) -> CommandResult:
        """`by` signs, `authenticated_at` being when their token was issued."""
        baseline = self._baseline(baseline_id)
        contract = self._contract(baseline.contract_id)
        baseline.sign(
            contract=contract,
            by=by,
            meaning=meaning,
            authenticated_at=authenticated_at,
            now=now,
            max_age=max_age,
        )
        return self._store(baseline, role=acting_role(contract, by))

    def revoke_baseline(self, baseline_id: inputs.Id, *, by: str, reason: str) -> CommandResult:
        baseline = self._baseline(baseline_id)
        contract = self._contract(baseline.contract_id)
        baseline.revoke(contract=contract, by=by, reason=reason)
        return self._store(baseline, role=acting_role(contract, by))

    # Suspect links

    def review_suspect(
        self,
        item_id: inputs.Id,
        *,
        by: str,
        outcome: ReviewOutcome | str,
        reason: str,
        flags: Sequence[UUID],
    ) -> CommandResult:
        """`by` reviews an item flagged suspect, clearing each of its open `flags` (the service's
        view names them); the answer is the first flag reviewed."""
        item = inputs.an_id("item_id", item_id)
        found = [self._load(f, SuspectLink, UnknownSuspect, None) for f in flags]
        links = [link for link in found if link.item_id == item and link.open]
        if not links:
            raise UnknownSuspect(item)
        contract = self._contract(links[0].contract_id)
        for link in links:
            link.review(contract=contract, outcome=outcome, reason=reason, by=by)
        return self._store(*links, role=acting_role(contract, by))

    def get_suspect(self, flag_id: inputs.Id) -> SuspectLink:
        return self._load(flag_id, SuspectLink, UnknownSuspect, None)

    def get_baseline(self, baseline_id: inputs.Id) -> Baseline:
        return self._baseline(baseline_id)

    def baseline_for(self, baseline_id: inputs.Id, person: str) -> Baseline:
        """The baseline, for its contract's participants (auditors included) only."""
        baseline = self._baseline(baseline_id)
        self._contract(baseline.contract_id).participant(person)
        return baseline

    # Queries

    def get_contract(self, contract_id: inputs.Id) -> Contract:
        return self._contract(contract_id)

    def contract_for(self, contract_id: inputs.Id, person: str) -> Contract:
        """The contract, for its participants (auditors included) only."""
        contract = self._contract(contract_id)
        contract.participant(person)
        return contract

    def expectation_for(self, expectation_id: inputs.Id, person: str) -> Expectation:
        """The expectation, for its contract's participants (auditors included) only."""
        expectation = self._expectation(expectation_id)
        self._contract(expectation.contract_id).participant(person)
        return expectation

    def get_question(self, question_id: inputs.Id) -> Question:
        """A question asked since questions have their own aggregates (older ones are on their
        contract: `get_contract(...).questions`)."""
        return self._load(question_id, Question, UnknownQuestion, None)

    def get_expectation(self, expectation_id: inputs.Id) -> Expectation:
        return self._expectation(expectation_id)

    def get_obligation(self, obligation_id: inputs.Id) -> Obligation:
        return self._obligation(obligation_id)

    def get_risk(self, risk_id: inputs.Id) -> Risk:
        return self._risk(risk_id)

    def get_lesson(self, lesson_id: inputs.Id) -> Lesson:
        return self._lesson(lesson_id)

    def missing_for_measurable(self, expectation_id: inputs.Id) -> list[str]:
        """What the expectation still lacks to be measurable; empty when it is measurable."""
        return self._expectation(expectation_id).missing_for_measurable()

    # Loading and storing

    def _contract(self, contract_id: inputs.Id, expected_version: int | None = None) -> Contract:
        return self._load(contract_id, Contract, UnknownContract, expected_version)

    def _asked_on(self, contract: Contract, question_id: UUID) -> Asked:
        """The question, wherever it is recorded (UNKNOWN_QUESTION if not on this contract)."""
        return self._question_on(contract, question_id) or contract.question(question_id)

    def _question_on(self, contract: Contract, question_id: UUID) -> Question | None:
        """The question's own aggregate, if it has one on this contract; None for a question
        recorded on the contract's stream, and for one that does not exist (which the contract
        then refuses as unknown)."""
        try:
            found: object = self.repository.get(question_id)
        except AggregateNotFoundError:
            return None
        if isinstance(found, Question) and found.contract_id == contract.id:
            return found
        return None

    def _expectation(
        self, expectation_id: inputs.Id, expected_version: int | None = None
    ) -> Expectation:
        return self._load(expectation_id, Expectation, UnknownExpectation, expected_version)

    def _obligation(
        self, obligation_id: inputs.Id, expected_version: int | None = None
    ) -> Obligation:
        return self._load(obligation_id, Obligation, UnknownObligation, expected_version)

    def _risk(self, risk_id: inputs.Id, expected_version: int | None = None) -> Risk:
        return self._load(risk_id, Risk, UnknownRisk, expected_version)

    def _lesson(self, lesson_id: inputs.Id, expected_version: int | None = None) -> Lesson:
        return self._load(lesson_id, Lesson, UnknownLesson, expected_version)

    def _baseline(self, baseline_id: inputs.Id) -> Baseline:
        return self._load(baseline_id, Baseline, UnknownBaseline, None)

    def _load(
        self,
        aggregate_id: inputs.Id,
        kind: type[T],
        unknown: Callable[[object], NotFound],
        expected_version: int | None,
    ) -> T:
        try:
            found: object = self.repository.get(UUID(str(aggregate_id)))
        except (AggregateNotFoundError, ValueError):
            raise unknown(aggregate_id) from None
        # One event store holds every kind: an obligation's id is not a known contract.
        if not isinstance(found, kind):
            raise unknown(aggregate_id)
        expect_version(found, expected_version)
        return found

    def _expectations_on(
        self, contract_id: UUID, field: str, expectation_ids: Iterable[inputs.Id]
    ) -> list[UUID]:
        linked = inputs.ids(field, expectation_ids)
        for expectation_id in linked:
            if self._expectation(expectation_id).contract_id != contract_id:
                raise UnknownExpectation(expectation_id, contract_id)
        return linked

    def _risks_on(self, contract_id: UUID, risk_ids: Iterable[inputs.Id]) -> list[UUID]:
        linked = inputs.ids("risk_ids", risk_ids)
        for risk_id in linked:
            if self._risk(risk_id).contract_id != contract_id:
                raise UnknownRisk(risk_id, contract_id)
        return linked

    def _store(
        self,
        *aggregates: AccordAggregate,
        role: str,
        created: UUID | None = None,
        answer: AccordAggregate | None = None,
    ) -> CommandResult:
        """Save the aggregates' new events in one transaction, stamped with the actor's `role`;
        the first one is the answer, unless `answer` names another (the result then counts
        only its events). `created` names what the command created inside it (a question, a
        measurement, a gap, a preventive action), when it created one."""
        stamped = current_provenance()
        try:
            with acting_as(
                stamped.actor_id,
                role,
                correlation_id=stamped.correlation_id,
                causation_id=stamped.causation_id,
                traceparent=stamped.traceparent,
            ):
                recordings = self.save(*aggregates)
        except IntegrityError:
            # Another command stored the same version first; nothing of this one was stored.
            raise StoredAtTheSameTime(aggregates[0].id) from None
        if answer is None:
            return command_result(aggregates[0].id, aggregates[0].version, recordings, created)
        own = [r for r in recordings if r.domain_event.originator_id == answer.id]
        return command_result(answer.id, answer.version, own, created)


def expect_version(aggregate: AccordAggregate, expected_version: int | None) -> None:
    """A command based on a version other than the aggregate's latest is refused (CONFLICT)."""
    if expected_version is not None and aggregate.version != expected_version:
        raise VersionConflict(aggregate.id, expected_version, aggregate.version)


def acting_role(contract: Contract, person: str, *, administrator: bool = False) -> str:
    """The role stamped on what a command stores: the one the actor holds on the contract it
    loaded, before the command changed it; the record names a configured administrator who is
    not on it, and a stranger (whom the domain refuses, or lets answer what they were asked
    before they left), as such."""
    found = contract.participants.get(person)
    if found is not None:
        return found.role.value
    return "administrator" if administrator else "not_a_participant"
