"""The Lesson aggregate: what was learned from risks or missed expectations, and the
preventive actions planned so that it does not happen again.

Preventive actions hang off the lesson rather than the risk because a lesson may come from an
expectation that fell short with no risk ever disclosed, and one lesson may cover several risks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from services.elicitation import inputs
from services.elicitation.errors import LessonNotLinked
from services.elicitation.snapshots import StateSnapshot
from shared.eventstore import AccordAggregate


@dataclass(frozen=True)
class PreventiveAction:
    action_id: UUID
    action: str
    owner: str
    due_on: date
    planned_by: str


class Lesson(AccordAggregate):
    """A lesson learned on one contract, linked to the risks and expectations it came from."""

    # Its state is snapshotted as plain JSON (see snapshots.py).
    Snapshot = StateSnapshot

    @staticmethod
    def create_id(lesson_id: UUID) -> UUID:
        # The application chooses the id so LessonLearned can carry it.
        return lesson_id

    @classmethod
    def learn(
        cls,
        *,
        lesson_id: UUID,
        contract_id: UUID,
        lesson: str,
        risk_ids: Sequence[UUID],
        expectation_ids: Sequence[UUID],
        by: str,
    ) -> Lesson:
        if not risk_ids and not expectation_ids:
            raise LessonNotLinked()
        return cls(
            contract_id=contract_id,
            lesson_id=lesson_id,
            lesson=inputs.text("lesson", lesson),
            risk_ids=list(risk_ids),
            expectation_ids=list(expectation_ids),
            learned_by=by,
        )

    @event("LessonLearned")
    def __init__(
        self,
        contract_id: UUID,
        lesson_id: UUID,
        lesson: str,
        risk_ids: list[UUID],
        expectation_ids: list[UUID],
        learned_by: str,
    ) -> None:
        self._contract_id = contract_id
        self.lesson = lesson
        self.risk_ids = tuple(risk_ids)
        self.expectation_ids = tuple(expectation_ids)
        self.learned_by = learned_by
        self.preventive_actions: tuple[PreventiveAction, ...] = ()

    @property
    def contract_id(self) -> UUID:
        return self._contract_id

    def plan_preventive_action(
        self, *, action_id: UUID, action: str, owner: str, due_on: date | str, by: str
    ) -> None:
        self._preventive_action_planned(
            contract_id=self.contract_id,
            lesson_id=self.id,
            action_id=action_id,
            action=inputs.text("action", action),
            owner=owner,
            due_on=inputs.a_date("due_on", due_on),
            planned_by=by,
        )

    @event("PreventiveActionPlanned")
    def _preventive_action_planned(
        self,
        contract_id: UUID,
        lesson_id: UUID,
        action_id: UUID,
        action: str,
        owner: str,
        due_on: date,
        planned_by: str,
    ) -> None:
        planned = PreventiveAction(action_id, action, owner, due_on, planned_by)
        self.preventive_actions = (*self.preventive_actions, planned)
