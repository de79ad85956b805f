"""The ranking service's commands: prioritization sessions and the votes cast in them."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from shared.commands.declaration import Body, Command
from shared.values import Instant, Integer

SERVICE = "ranking"


class Method(StrEnum):
    """How the votes of a prioritization are counted."""

    BORDA = "borda"
    SCHULZE = "schulze"
    KEMENY = "kemeny"
    DOTS = "dots"


class OpenPrioritization(Body):
    method: Method
    dots: Integer | None = Field(
        default=None, gt=0, description="With the dots method: how many dots each voter has."
    )
    closes_at: Instant | None = Field(
        default=None,
        description="When voting stops: the session then closes by itself and publishes its"
        " ranking (unless nobody voted).",
    )


class DotsFor(Body):
    """Dots a voter puts on one expectation."""

    expectation_id: UUID
    dots: Integer = Field(ge=0)


class CastVote(Body):
    ranking: list[UUID] | None = Field(
        default=None, description="Ranked methods: every expectation, most important first."
    )
    dots: list[DotsFor] | None = Field(
        default=None, description="The dots method: the voter's dots, by expectation."
    )
    expected_version: Integer | None = None


class WithdrawVote(Body):
    expected_version: Integer | None = None


class ClosePrioritization(Body):
    expected_version: Integer | None = None


OPEN_PRIORITIZATION = Command(
    "open_prioritization", SERVICE, "/contracts/{contract_id}/prioritizations",
    OpenPrioritization, "Open a vote on the contract's measurable expectations"
    " (the provider's account manager or the client's people).",
    events=("PrioritizationOpened",), creates=True,
)  # fmt: skip
CAST_VOTE = Command(
    "cast_vote", SERVICE, "/prioritizations/{prioritization_id}/votes", CastVote,
    "Cast (or replace) the caller's ballot (a client decision maker invited to vote).",
    events=("VoteCast",),
)  # fmt: skip
WITHDRAW_VOTE = Command(
    "withdraw_vote", SERVICE, "/prioritizations/{prioritization_id}/votes/withdraw",
    WithdrawVote, "Withdraw the caller's ballot while the vote is open.",
    events=("VoteWithdrawn",),
)  # fmt: skip
CLOSE_PRIORITIZATION = Command(
    "close_prioritization", SERVICE, "/prioritizations/{prioritization_id}/close",
    ClosePrioritization, "Close the vote and publish the corporate ranking (a facilitator).",
    events=("PrioritizationClosed", "CorporatePrioritiesPublished"),
)  # fmt: skip

COMMANDS: tuple[Command[Body], ...] = (
    OPEN_PRIORITIZATION, CAST_VOTE, WITHDRAW_VOTE, CLOSE_PRIORITIZATION,
)  # fmt: skip
