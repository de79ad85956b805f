"""The SuspectLink aggregate: one flag raised on one item by one refinement, and its review.

Each flag is an aggregate of its own, its id named by the item, the expectation and the
revision (suspect_rule.flag_id), so the same flag is never raised twice. Reviewing an item
clears every flag still open on it, each with its own SuspectReviewed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from services.elicitation import inputs
from services.elicitation.contract import Contract
from services.elicitation.errors import ElicitationError, NotFound, NotPermitted, WrongState
from services.elicitation.suspect_rule import REVIEWERS, Flag, SuspectKind
from shared.commands.suspects import ReviewOutcome
from shared.eventstore import AccordAggregate

REVIEW = "review suspect"


class UnknownSuspect(NotFound):
    code = "UNKNOWN_SUSPECT"

    def __init__(self, item_id: object) -> None:
        super().__init__(f"nothing of {item_id} is flagged suspect", item_id=str(item_id))


class NotSuspect(WrongState):
    code = "NOT_SUSPECT"

    def __init__(self, item_id: UUID) -> None:
        super().__init__(
            f"{item_id} has no suspect flag left to review: it was reviewed already",
            item_id=item_id,
        )


class SuspectLinksCatchingUp(ElicitationError):
    """The suspect links' view has not yet applied what was stored before the command: going
    on could miss a flag, so nothing is stored."""

    code = "SUSPECT_LINKS_CATCHING_UP"
    http_status = 503

    def __init__(self, position: int) -> None:
        super().__init__(
            "the suspect links are still being brought up to date; try again in a moment",
            position=position,
        )


class SuspectLink(AccordAggregate):
    """An item that rests on an earlier revision of an expectation, flagged until reviewed."""

    @staticmethod
    def create_id(flag_id: UUID) -> UUID:
        return flag_id

    @classmethod
    def raise_flag(cls, flag: Flag, *, by: str) -> SuspectLink:
        return cls(
            flag_id=flag.id,
            contract_id=flag.contract_id,
            item_id=flag.item_id,
            kind=flag.kind.value,
            expectation_id=flag.expectation_id,
            from_revision=flag.from_revision,
            revision=flag.revision,
            changes=[dict(c) for c in flag.changes],
            refined_by=by,
            reviewers=flag.reviewers,
            owner=flag.owner,
        )

    @event("LinkSuspected")
    def __init__(
        self,
        flag_id: UUID,
        contract_id: UUID,
        item_id: UUID,
        kind: str,
        expectation_id: UUID,
        from_revision: int,
        revision: int,
        changes: list[dict[str, Any]],
        refined_by: str,
        reviewers: list[str],
        # Absent from flags stored before it was carried.
        owner: str = "",
    ) -> None:
        self._contract_id = contract_id
        self.item_id = item_id
        self.kind = SuspectKind(kind)
        self.expectation_id = expectation_id
        self.revision = revision
        self.changes: tuple[Mapping[str, Any], ...] = tuple(changes)
        self.outcome: ReviewOutcome | None = None

    @property
    def contract_id(self) -> UUID:
        return self._contract_id

    @property
    def open(self) -> bool:
        return self.outcome is None

    def review(
        self, *, contract: Contract, outcome: ReviewOutcome | str, reason: str, by: str
    ) -> None:
        may_review(contract, self.kind, by)
        if not self.open:
            raise NotSuspect(self.item_id)
        self._reviewed(
            contract_id=self.contract_id,
            item_id=self.item_id,
            kind=self.kind.value,
            outcome=inputs.choice("outcome", outcome, ReviewOutcome).value,
            reason=inputs.text("reason", reason),
            reviewed_by=by,
            expectation_id=self.expectation_id,
            revision=self.revision,
        )

    @event("SuspectReviewed")
    def _reviewed(
        self,
        contract_id: UUID,
        item_id: UUID,
        kind: str,
        outcome: str,
        reason: str,
        reviewed_by: str,
        expectation_id: UUID,
        revision: int,
    ) -> None:
        self.outcome = ReviewOutcome(outcome)


def may_review(contract: Contract, kind: SuspectKind, person_id: str) -> None:
    """Only someone who may decide the item again reviews it (NOT_PERMITTED otherwise)."""
    participant = contract.participant(person_id)
    if participant.role not in REVIEWERS[kind]:
        raise NotPermitted(person_id, participant.role.value, f"{REVIEW} {kind.value}s")
