"""What bad votes get: named errors, each with a stable code and a message a voter can act on."""

from __future__ import annotations

from typing import Any, ClassVar

from shared.errors import AccordError


class VotingError(AccordError, ValueError):
    """A vote or a count the rules refuse; `code` is stable for the API, `message` is for people."""

    code: ClassVar[str] = "VOTING_ERROR"

    def __init__(self, message: str, **details: Any) -> None:
        # Details name what was wrong (voter, expectation, counts) for the API's answer.
        super().__init__(message, **details)


class BallotIncomplete(VotingError):
    """A ranking leaves out expectations that are on the ballot."""

    code = "BALLOT_INCOMPLETE"

    def __init__(self, voter: str, missing: tuple[str, ...]) -> None:
        super().__init__(
            f"The ballot of {voter} does not rank {', '.join(missing)}; "
            "rank every expectation on the ballot exactly once.",
            voter=voter,
            missing=list(missing),
        )
        self.voter = voter
        self.missing = missing


class BallotDuplicate(VotingError):
    """A ranking names the same expectation more than once."""

    code = "BALLOT_DUPLICATE"

    def __init__(self, voter: str, expectation: str) -> None:
        super().__init__(
            f"The ballot of {voter} ranks {expectation} more than once; "
            "rank every expectation on the ballot exactly once.",
            voter=voter,
            expectation=expectation,
        )
        self.voter = voter
        self.expectation = expectation


class BallotUnknownExpectation(VotingError):
    """A ballot names an expectation that is not on this session's ballot."""

    code = "BALLOT_UNKNOWN_EXPECTATION"

    def __init__(self, voter: str, expectation: str) -> None:
        super().__init__(
            f"The ballot of {voter} names {expectation}, which is not on this ballot; "
            "vote only on the expectations the session opened with.",
            voter=voter,
            expectation=expectation,
        )
        self.voter = voter
        self.expectation = expectation


class DotsWrongTotal(VotingError):
    """A dot allocation does not spend exactly the session's dots."""

    code = "DOTS_WRONG_TOTAL"

    def __init__(self, voter: str, spent: int, dots: int) -> None:
        super().__init__(
            f"The ballot of {voter} allocates {spent} dots; allocate exactly {dots}.",
            voter=voter,
            spent=spent,
            dots=dots,
        )
        self.voter = voter
        self.spent = spent
        self.dots = dots


class DotsNegative(VotingError):
    """A dot allocation gives an expectation fewer than zero dots."""

    code = "DOTS_NEGATIVE"

    def __init__(self, voter: str, expectation: str, given: int) -> None:
        super().__init__(
            f"The ballot of {voter} gives {given} dots to {expectation}; dots cannot be negative.",
            voter=voter,
            expectation=expectation,
            given=given,
        )
        self.voter = voter
        self.expectation = expectation
        self.given = given


class NoVotes(VotingError):
    """Nobody has voted, so there is nothing to count."""

    code = "NO_VOTES"

    def __init__(self) -> None:
        super().__init__("No votes have been cast; a ranking needs at least one ballot.")


class TooManyForKemeny(VotingError):
    """Kemeny-Young is exact only for small ballots; larger ones need another method."""

    code = "KEMENY_TOO_MANY"

    def __init__(self, expectations: int, limit: int) -> None:
        super().__init__(
            f"Kemeny-Young is computed exactly for at most {limit} expectations and this "
            f"ballot has {expectations}; use Schulze, which like Kemeny-Young puts first an "
            "expectation that wins every head-to-head, or Borda.",
            expectations=expectations,
            limit=limit,
        )
        self.expectations = expectations
        self.limit = limit
