"""The Expectation aggregate: from a decision maker's words to measurable, committed terms,
and then what delivery against them showed.

Measurements, gaps and recovery plans live on the Expectation, not on an aggregate of their
own, because whether a measurement met its target is computed from the terms in force when it
is recorded, and a recovery plan may revise that target. Keeping them in one consistency
boundary means a measurement is never judged against terms that changed at the same moment:
a refinement and a measurement racing each other conflict, and one of them is retried. The
stream grows by about one measurement a period, which stays small over a contract's life.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from services.elicitation import inputs
from services.elicitation.delivery import Gap, Measurement, PlannedStep, RecoveryStep
from services.elicitation.errors import (
    DifferentContracts,
    ExpectationAlreadyDecided,
    ExpectationIsMerged,
    ExpectationIsWithdrawn,
    GapAlreadyAcknowledged,
    MergeWithItself,
    NotMeasurable,
    PeriodInverted,
    PlanHasNoSteps,
    RecoveryPlanAlreadyAgreed,
    RecoveryStepAlreadyCompleted,
    TargetNotNumeric,
    TargetWasMet,
    UnknownGap,
    UnknownMeasurement,
    UnknownRecoveryStep,
)
from services.elicitation.snapshots import StateSnapshot
from services.elicitation.terms import MeasurableTerms
from shared.commands.elicitation import Comparison, Feasibility, Importance
from shared.eventstore import AccordAggregate


class ExpectationStatus(StrEnum):
    # Open for refinement; the provider has not decided on its latest revision.
    PROPOSED = "proposed"
    COMMITTED = "committed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"


def status_after_refinement(status: ExpectationStatus) -> ExpectationStatus:
    """A decision is on a revision: new terms wait for the provider to decide again."""
    if status in (ExpectationStatus.COMMITTED, ExpectationStatus.DECLINED):
        return ExpectationStatus.PROPOSED
    return status


def decided_after_revised_target(
    status: ExpectationStatus, decided_revision: int | None, revision: int
) -> int | None:
    """Both sides agreed the revised target, so a commitment carries over to it."""
    return revision if status is ExpectationStatus.COMMITTED else decided_revision


@dataclass(frozen=True)
class Revision:
    """One version of the expectation's wording and terms, and why it changed."""

    number: int
    text: str
    terms: MeasurableTerms
    reason: str
    by: str


@dataclass(frozen=True)
class Advice:
    """The provider's expert view; it informs the client's prioritization, never sets it."""

    revision: int
    importance: Importance | None
    feasibility: Feasibility | None
    advice: str
    by: str


class Expectation(AccordAggregate):
    """What one or more client decision makers expect from the provider on one contract."""

    # Its state is snapshotted as plain JSON (see snapshots.py).
    Snapshot = StateSnapshot

    @staticmethod
    def create_id(expectation_id: UUID) -> UUID:
        # The application chooses the id so ExpectationProposed can carry it.
        return expectation_id

    @classmethod
    def propose(
        cls,
        *,
        expectation_id: UUID,
        contract_id: UUID,
        text: str,
        business_area: str,
        why_it_matters: str,
        from_answers: Sequence[UUID],
        by: str,
    ) -> Expectation:
        return cls(
            contract_id=contract_id,
            expectation_id=expectation_id,
            text=inputs.text("text", text),
            business_area=inputs.label("business_area", business_area),
            why_it_matters=inputs.optional_text("why_it_matters", why_it_matters),
            from_answers=list(from_answers),
            proposed_by=by,
        )

    @event("ExpectationProposed")
    def __init__(
        self,
        contract_id: UUID,
        expectation_id: UUID,
        text: str,
        business_area: str,
        why_it_matters: str,
        from_answers: list[UUID],
        proposed_by: str,
    ) -> None:
        self._contract_id = contract_id
        self.business_area = business_area
        self.why_it_matters = why_it_matters
        self.from_answers = tuple(from_answers)
        self.proposers: tuple[str, ...] = (proposed_by,)
        self.revisions: tuple[Revision, ...] = (
            Revision(1, text, MeasurableTerms(), "proposed", proposed_by),
        )
        self.status = ExpectationStatus.PROPOSED
        # The revision the provider last committed to or declined, and why it declined.
        self.decided_revision: int | None = None
        self.decline_reason = ""
        self.withdrawal_reason = ""
        self.merged_into: UUID | None = None
        self.merged_from: tuple[UUID, ...] = ()
        self.advice: tuple[Advice, ...] = ()
        self.measurements: dict[UUID, Measurement] = {}
        self.gaps: dict[UUID, Gap] = {}

    @property
    def contract_id(self) -> UUID:
        return self._contract_id

    @property
    def revision(self) -> int:
        return self.revisions[-1].number

    @property
    def text(self) -> str:
        return self.revisions[-1].text

    @property
    def terms(self) -> MeasurableTerms:
        return self.revisions[-1].terms

    def missing_for_measurable(self) -> list[str]:
        return self.terms.missing_for_measurable()

    @property
    def is_measurable(self) -> bool:
        return self.terms.is_measurable

    def _check_open(self) -> None:
        """Withdrawn and merged expectations are history: nothing more happens to them."""
        if self.status is ExpectationStatus.WITHDRAWN:
            raise ExpectationIsWithdrawn(self.id)
        if self.status is ExpectationStatus.MERGED:
            raise ExpectationIsMerged(self.id, self.merged_into)

    def _check_measurable(self) -> None:
        missing = self.missing_for_measurable()
        if missing:
            raise NotMeasurable(self.id, missing)

    # Refinement

    def refine(
        self,
        *,
        text: str,
        terms: MeasurableTerms,
        reason: str,
        by: str,
        contract_starts_on: date,
    ) -> None:
        """A new revision: the wording and the complete terms as they now stand."""
        self._check_open()
        terms.check_deadline(contract_starts_on)
        self._refined(
            contract_id=self.contract_id,
            expectation_id=self.id,
            revision=self.revision + 1,
            text=inputs.text("text", text),
            terms=terms.as_event_data(),
            reason=inputs.text("reason", reason),
            refined_by=by,
            measurable=terms.is_measurable,
            missing_for_measurable=terms.missing_for_measurable(),
            # The state it leaves, so that read models take it rather than work it out again.
            status=status_after_refinement(self.status).value,
        )

    @event("ExpectationRefined")
    def _refined(
        self,
        contract_id: UUID,
        expectation_id: UUID,
        revision: int,
        text: str,
        terms: dict[str, Any],
        reason: str,
        refined_by: str,
        measurable: bool,
        missing_for_measurable: list[str],
        # None on events stored before they carried it.
        status: str | None = None,
    ) -> None:
        revised = Revision(
            revision, text, MeasurableTerms.from_event_data(terms), reason, refined_by
        )
        self.revisions = (*self.revisions, revised)
        self.status = status_after_refinement(self.status)

    def withdraw(self, *, reason: str, by: str) -> None:
        self._check_open()
        self._withdrawn(
            contract_id=self.contract_id,
            expectation_id=self.id,
            reason=inputs.text("reason", reason),
            withdrawn_by=by,
        )

    @event("ExpectationWithdrawn")
    def _withdrawn(
        self, contract_id: UUID, expectation_id: UUID, reason: str, withdrawn_by: str
    ) -> None:
        self.status = ExpectationStatus.WITHDRAWN
        self.withdrawal_reason = reason

    def absorb(self, duplicate: Expectation, *, reason: str, by: str) -> None:
        """Merge a duplicate into this one: both proposers stay on record, on both streams."""
        if duplicate.id == self.id:
            raise MergeWithItself(self.id)
        if duplicate.contract_id != self.contract_id:
            raise DifferentContracts(self.id, duplicate.id)
        self._check_open()
        duplicate._check_open()
        proposers = list(dict.fromkeys((*self.proposers, *duplicate.proposers)))
        fields: dict[str, Any] = {
            "contract_id": self.contract_id,
            "kept_expectation_id": self.id,
            "merged_expectation_id": duplicate.id,
            "proposers": proposers,
            "reason": inputs.text("reason", reason),
            "merged_by": by,
        }
        # The same fact lands on both streams, so each one's history tells the whole story.
        self._merged(**fields)
        duplicate._merged(**fields)

    @event("ExpectationsMerged")
    def _merged(
        self,
        contract_id: UUID,
        kept_expectation_id: UUID,
        merged_expectation_id: UUID,
        proposers: list[str],
        reason: str,
        merged_by: str,
    ) -> None:
        self.proposers = tuple(proposers)
        if self.id == kept_expectation_id:
            self.merged_from = (*self.merged_from, merged_expectation_id)
        else:
            self.status = ExpectationStatus.MERGED
            self.merged_into = kept_expectation_id

    # The provider's view

    def give_advice(
        self,
        *,
        importance: Importance | str | None,
        feasibility: Feasibility | str | None,
        advice: str,
        by: str,
    ) -> None:
        self._check_open()
        self._advice_given(
            contract_id=self.contract_id,
            expectation_id=self.id,
            revision=self.revision,
            importance=None
            if importance is None
            else inputs.choice("importance", importance, Importance).value,
            feasibility=None
            if feasibility is None
            else inputs.choice("feasibility", feasibility, Feasibility).value,
            advice=inputs.text("advice", advice),
            advised_by=by,
        )

    @event("ProviderAdviceGiven")
    def _advice_given(
        self,
        contract_id: UUID,
        expectation_id: UUID,
        revision: int,
        importance: str | None,
        feasibility: str | None,
        advice: str,
        advised_by: str,
    ) -> None:
        given = Advice(
            revision,
            None if importance is None else Importance(importance),
            None if feasibility is None else Feasibility(feasibility),
            advice,
            advised_by,
        )
        self.advice = (*self.advice, given)

    def commit(self, *, note: str, by: str) -> None:
        """The provider commits to the latest revision; only measurable terms can be met."""
        self._check_open()
        self._check_measurable()
        self._check_undecided(ExpectationStatus.COMMITTED)
        self._committed(
            contract_id=self.contract_id,
            expectation_id=self.id,
            revision=self.revision,
            note=inputs.optional_text("note", note),
            committed_by=by,
        )

    @event("ExpectationCommitted")
    def _committed(
        self, contract_id: UUID, expectation_id: UUID, revision: int, note: str, committed_by: str
    ) -> None:
        self.status = ExpectationStatus.COMMITTED
        self.decided_revision = revision
        self.decline_reason = ""

    def decline(self, *, reason: str, by: str) -> None:
        """The provider declines, with its reason, rather than commit to what it cannot meet."""
        self._check_open()
        self._check_undecided(ExpectationStatus.DECLINED)
        self._declined(
            contract_id=self.contract_id,
            expectation_id=self.id,
            revision=self.revision,
            reason=inputs.text("reason", reason),
            declined_by=by,
        )

    @event("ExpectationDeclined")
    def _declined(
        self, contract_id: UUID, expectation_id: UUID, revision: int, reason: str, declined_by: str
    ) -> None:
        self.status = ExpectationStatus.DECLINED
        self.decided_revision = revision
        self.decline_reason = reason

    def _check_undecided(self, decision: ExpectationStatus) -> None:
        # Changing one's mind is allowed (it is on the record); repeating a decision is not.
        if self.status is decision and self.decided_revision == self.revision:
            raise ExpectationAlreadyDecided(self.id, decision.value, self.revision)

    # Delivery

    def record_measurement(
        self,
        *,
        measurement_id: UUID,
        period_start: date | str,
        period_end: date | str,
        value: inputs.Number,
        source: str,
        by: str,
    ) -> Measurement:
        self._check_open()
        self._check_measurable()
        start = inputs.a_date("period_start", period_start)
        end = inputs.a_date("period_end", period_end)
        if end < start:
            raise PeriodInverted(start, end)
        measured = inputs.number("value", value)
        terms = self.terms
        judgement = terms.judge(measured)
        self._measurement_recorded(
            contract_id=self.contract_id,
            expectation_id=self.id,
            measurement_id=measurement_id,
            revision=self.revision,
            period_start=start,
            period_end=end,
            value=measured,
            unit=terms.unit,
            source=inputs.text("source", source),
            met=judgement.met,
            shortfall=judgement.shortfall,
            recorded_by=by,
            # The judgement and the terms it was made on travel with the fact, so that read
            # models show them and never judge again.
            relative_shortfall=judgement.relative_shortfall,
            comparison=None if terms.comparison is None else terms.comparison.value,
            target=terms.target,
            target_upper=terms.target_upper,
        )
        return self.measurements[measurement_id]

    @event("MeasurementRecorded")
    def _measurement_recorded(
        self,
        contract_id: UUID,
        expectation_id: UUID,
        measurement_id: UUID,
        revision: int,
        period_start: date,
        period_end: date,
        value: Decimal,
        unit: str,
        source: str,
        met: bool,
        shortfall: Decimal,
        recorded_by: str,
        # Absent from measurements stored before they were recorded with the event.
        relative_shortfall: Decimal | None = None,
        comparison: str | None = None,
        target: Decimal | None = None,
        target_upper: Decimal | None = None,
    ) -> None:
        self.measurements[measurement_id] = Measurement(
            measurement_id,
            revision,
            period_start,
            period_end,
            value,
            source,
            met,
            shortfall,
            recorded_by,
        )

    def acknowledge_gap(self, *, gap_id: UUID, measurement_id: UUID, cause: str, by: str) -> None:
        """The provider owns a shortfall a measurement showed, with its cause as understood."""
        self._check_open()
        measurement = self.measurements.get(measurement_id)
        if measurement is None:
            raise UnknownMeasurement(measurement_id, self.id)
        if measurement.met:
            raise TargetWasMet(measurement_id)
        for gap in self.gaps.values():
            if gap.measurement_id == measurement_id:
                raise GapAlreadyAcknowledged(measurement_id, gap.gap_id)
        self._gap_acknowledged(
            contract_id=self.contract_id,
            expectation_id=self.id,
            gap_id=gap_id,
            measurement_id=measurement_id,
            shortfall=measurement.shortfall,
            unit=self.revisions[measurement.revision - 1].terms.unit,
            cause=inputs.text("cause", cause),
            acknowledged_by=by,
        )

    @event("GapAcknowledged")
    def _gap_acknowledged(
        self,
        contract_id: UUID,
        expectation_id: UUID,
        gap_id: UUID,
        measurement_id: UUID,
        shortfall: Decimal,
        unit: str,
        cause: str,
        acknowledged_by: str,
    ) -> None:
        self.gaps[gap_id] = Gap(gap_id, measurement_id, shortfall, cause, acknowledged_by)

    def gap(self, gap_id: UUID) -> Gap:
        try:
            return self.gaps[gap_id]
        except KeyError:
            raise UnknownGap(gap_id, self.id) from None

    def agree_recovery_plan(
        self,
        *,
        gap_id: UUID,
        steps: Iterable[PlannedStep],
        revised_target: inputs.Number | None,
        revised_target_upper: inputs.Number | None,
        agreed_with: str,
        by: str,
    ) -> None:
        """A realistic plan for a gap; a revised target only when the client agreed to it."""
        self._check_open()
        if self.gap(gap_id).has_plan:
            raise RecoveryPlanAlreadyAgreed(gap_id)
        planned = [step.as_event_data(number) for number, step in enumerate(steps, start=1)]
        if not planned:
            raise PlanHasNoSteps()
        target, upper = self._revised_target(revised_target, revised_target_upper)
        self._recovery_plan_agreed(
            contract_id=self.contract_id,
            expectation_id=self.id,
            gap_id=gap_id,
            steps=planned,
            revised_target=target,
            revised_target_upper=upper,
            revision=self.revision + 1 if target is not None else self.revision,
            agreed_with=agreed_with,
            agreed_by=by,
            # The revision the provider's decision stands on after the plan, for read models.
            decided_revision=(
                self.decided_revision
                if target is None
                else decided_after_revised_target(
                    self.status, self.decided_revision, self.revision + 1
                )
            ),
        )

    def _revised_target(
        self, target: inputs.Number | None, upper: inputs.Number | None
    ) -> tuple[Decimal | None, Decimal | None]:
        if target is None and upper is None:
            return None, None
        if target is None:
            raise TargetNotNumeric("revised_target", None)
        revised = inputs.number("revised_target", target, error=TargetNotNumeric)
        if self.terms.comparison is Comparison.WITHIN_RANGE and upper is None:
            raise TargetNotNumeric("revised_target_upper", None)
        revised_upper = (
            None
            if upper is None
            else inputs.number("revised_target_upper", upper, error=TargetNotNumeric)
        )
        self.terms.with_target(revised, revised_upper)  # refuses an inverted or stray bound
        return revised, revised_upper

    @event("RecoveryPlanAgreed")
    def _recovery_plan_agreed(
        self,
        contract_id: UUID,
        expectation_id: UUID,
        gap_id: UUID,
        steps: list[dict[str, Any]],
        revised_target: Decimal | None,
        revised_target_upper: Decimal | None,
        revision: int,
        agreed_with: str,
        agreed_by: str,
        # None on events stored before they carried it (and when nothing was decided).
        decided_revision: int | None = None,
    ) -> None:
        self.gaps[gap_id] = replace(
            self.gaps[gap_id],
            steps=tuple(RecoveryStep.from_event_data(step) for step in steps),
            agreed_with=agreed_with,
            revised_target=revised_target,
            revised_target_upper=revised_target_upper,
        )
        if revised_target is None:
            return
        current = self.revisions[-1]
        terms = current.terms.with_target(revised_target, revised_target_upper)
        reason = f"target revised in the recovery plan for gap {gap_id}"
        self.revisions = (
            *self.revisions,
            Revision(revision, current.text, terms, reason, agreed_by),
        )
        self.decided_revision = decided_after_revised_target(
            self.status, self.decided_revision, revision
        )

    def recovery_step(self, gap_id: UUID, step: int) -> RecoveryStep:
        for planned in self.gap(gap_id).steps:
            if planned.step == step:
                return planned
        raise UnknownRecoveryStep(gap_id, step)

    def complete_recovery_step(self, *, gap_id: UUID, step: int, note: str, by: str) -> None:
        self._check_open()
        if self.recovery_step(gap_id, step).completed:
            raise RecoveryStepAlreadyCompleted(gap_id, step)
        self._recovery_step_completed(
            contract_id=self.contract_id,
            expectation_id=self.id,
            gap_id=gap_id,
            step=step,
            note=inputs.optional_text("note", note),
            completed_by=by,
        )

    @event("RecoveryStepCompleted")
    def _recovery_step_completed(
        self,
        contract_id: UUID,
        expectation_id: UUID,
        gap_id: UUID,
        step: int,
        note: str,
        completed_by: str,
    ) -> None:
        gap = self.gaps[gap_id]
        steps = tuple(
            planned.completed_with(note, completed_by) if planned.step == step else planned
            for planned in gap.steps
        )
        self.gaps[gap_id] = replace(gap, steps=steps)
