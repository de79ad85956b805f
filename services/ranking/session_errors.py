"""What a prioritization session refuses: named errors with a stable code and a clear message."""

from __future__ import annotations

from uuid import UUID

from services.ranking.errors import VotingError
from shared.errors import StoredMeanwhile


class NotEligible(VotingError):
    """Only the contract's client decision makers at opening time may vote."""

    code = "NOT_ELIGIBLE"
    http_status = 403

    def __init__(self, voter: str) -> None:
        super().__init__(
            f"{voter} is not an eligible voter in this prioritization: only the contract's "
            "client decision makers when it opened may vote."
        )


class SessionClosed(VotingError):
    """Votes arrive only while the session is open."""

    code = "SESSION_CLOSED"
    http_status = 409

    def __init__(self, session_id: UUID) -> None:
        super().__init__(f"Prioritization {session_id} is closed; no more votes are taken.")


class NothingToPrioritize(VotingError):
    """A session needs measurable expectations and someone to vote on them."""

    code = "NOTHING_TO_PRIORITIZE"


class BallotCatchingUp(VotingError):
    """The contract's view has not applied, within the wait, what elicitation published before
    the request: a vote opened now could leave out an expectation, so none is opened."""

    code = "BALLOT_CATCHING_UP"
    http_status = 503

    def __init__(self, contract_id: str) -> None:
        super().__init__(
            f"What contract {contract_id} puts to the vote is still being brought up to date"
            " from elicitation; try again in a moment.",
            contract_id=contract_id,
        )


class NoVoteToWithdraw(VotingError):
    """Withdrawing a vote that was never cast."""

    code = "NO_VOTE_TO_WITHDRAW"
    http_status = 409

    def __init__(self, voter: str) -> None:
        super().__init__(f"{voter} has no vote to withdraw in this prioritization.")


class WrongBallotShape(VotingError):
    """A ranking where dots were asked for, or dots where a ranking was."""

    code = "WRONG_BALLOT_SHAPE"


class VersionConflict(VotingError):
    """The command was based on a version that is no longer the latest."""

    code = "CONFLICT"

    def __init__(self, session_id: UUID, expected: int, actual: int) -> None:
        super().__init__(
            f"Prioritization {session_id} is at version {actual}, not {expected}: "
            "someone changed it meanwhile; reload and try again."
        )


class SessionStoredMeanwhile(VersionConflict, StoredMeanwhile):
    """Another command (a vote at the same moment) stored the session's next version first;
    nothing of this one was stored (run again, it is checked on what that one stored)."""


class UnknownPrioritization(VotingError):
    """No session with that id."""

    code = "UNKNOWN_PRIORITIZATION"

    def __init__(self, session_id: UUID) -> None:
        super().__init__(f"There is no prioritization {session_id}.")


class NotAllowed(VotingError):
    """The caller's role on the contract does not allow this."""

    code = "NOT_PERMITTED"

    def __init__(self, person: str, act: str) -> None:
        super().__init__(f"{person} may not {act}.")
