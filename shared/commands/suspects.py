"""Suspect links (the elicitation service keeps them): an item that rested on an expectation's
earlier terms is reviewed by someone who may decide, which clears it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shared.commands.declaration import Body, Command
from shared.values import LongText

SERVICE = "elicitation"


class ReviewOutcome(StrEnum):
    """What the review found: the item still stands on the new terms, or must be revised."""

    STILL_VALID = "still_valid"
    NEEDS_CHANGE = "needs_change"


class ReviewSuspect(Body):
    outcome: ReviewOutcome
    reason: LongText = Field(description="Why the item still stands, or what must change.")


REVIEW_SUSPECT = Command(
    "review_suspect", SERVICE, "/suspects/{item_id}/review", ReviewSuspect,
    "Review an item flagged suspect by a refinement (a commitment, obligation, risk, baseline"
    " or the published ranking), which clears its flags; who may review depends on its kind.",
    events=("SuspectReviewed",),
)  # fmt: skip

COMMANDS: tuple[Command[Body], ...] = (REVIEW_SUSPECT,)
