"""The Question aggregate: a provider's probing question to a client decision maker, and its
answer once given.

Each question is an aggregate of its own (its id is the question id), so that a contract does
not grow with every question asked on it: asking loads the contract for who takes part, and
answering loads the contract and this one question, however many were asked before. The
contract stays the authority on its people; the rules of a question live here.

Questions asked before they had aggregates of their own were recorded on the contract's
stream; the contract still reads those and records their answers there (see contract.py),
under the same rules (`check_answer`, `check_cited`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from eventsourcing.domain import event

from services.elicitation import inputs
from services.elicitation.errors import QuestionAlreadyAnswered, QuestionNotAnswered
from services.elicitation.participants import DECISION_MAKERS, Act
from shared.eventstore import AccordAggregate

if TYPE_CHECKING:
    from services.elicitation.contract import Contract


class Asked(Protocol):
    """A question wherever it is recorded: its own aggregate, or on its contract (older)."""

    @property
    def asked_of(self) -> str: ...

    @property
    def answered(self) -> bool: ...


def check_answer(question_id: UUID, question: Asked, *, by: str, contract: Contract) -> None:
    """The person asked answers; the provider's team may record it on their behalf; once."""
    if by != question.asked_of:
        contract.authorise(by, Act.RECORD_ANSWER)
    if question.answered:
        raise QuestionAlreadyAnswered(question_id)


def check_cited(cited: Iterable[tuple[UUID, Asked]]) -> list[UUID]:
    """The ids, if each names an answered question (an expectation cites answers only)."""
    ids = []
    for question_id, question in cited:
        if not question.answered:
            raise QuestionNotAnswered(question_id)
        ids.append(question_id)
    return ids


class Question(AccordAggregate):
    """One discovery question on one contract; its id is the question id."""

    @staticmethod
    def create_id(question_id: UUID) -> UUID:
        # The application chooses the id so QuestionAsked can carry it as `question_id`.
        return question_id

    @classmethod
    def ask(
        cls,
        *,
        question_id: UUID,
        contract: Contract,
        asked_of: str,
        business_area: str,
        text: str,
        by: str,
    ) -> Question:
        contract.authorise(by, Act.ASK_QUESTION)
        contract.in_role(asked_of, DECISION_MAKERS, "the person asked")
        return cls(
            contract_id=contract.id,
            question_id=question_id,
            asked_of=asked_of,
            business_area=inputs.label("business_area", business_area),
            text=inputs.text("text", text),
            asked_by=by,
        )

    @event("QuestionAsked")
    def __init__(
        self,
        contract_id: UUID,
        question_id: UUID,
        asked_of: str,
        business_area: str,
        text: str,
        asked_by: str,
    ) -> None:
        self._contract_id = contract_id
        self.asked_of = asked_of
        self.business_area = business_area
        self.text = text
        self.asked_by = asked_by
        self.answer_given = ""
        self.answered_by = ""

    @property
    def contract_id(self) -> UUID:
        return self._contract_id

    @property
    def answered(self) -> bool:
        return bool(self.answer_given)

    def answer(self, answer: str, *, by: str, contract: Contract) -> None:
        check_answer(self.id, self, by=by, contract=contract)
        self._question_answered(
            contract_id=self.contract_id,
            question_id=self.id,
            answer=inputs.text("answer", answer),
            answered_by=self.asked_of,
            recorded_by=by,
        )

    @event("QuestionAnswered")
    def _question_answered(
        self,
        contract_id: UUID,
        question_id: UUID,
        answer: str,
        answered_by: str,
        recorded_by: str,
    ) -> None:
        self.answer_given = answer
        self.answered_by = answered_by
