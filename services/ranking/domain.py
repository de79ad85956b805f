"""The prioritization session: decision makers' votes turned into one corporate ranking."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from services.ranking.ballots import (
    distinct_expectations,
    positions_of_dots,
    positions_of_ranking,
    validate_dots,
    validate_ranking,
)
from services.ranking.errors import NoVotes, TooManyForKemeny
from services.ranking.kemeny import KEMENY_LIMIT
from services.ranking.measures import measure
from services.ranking.methods import RANKED_METHODS, dot_voting
from services.ranking.result import Method, RankingResult
from services.ranking.session_errors import (
    NotEligible,
    NothingToPrioritize,
    NoVoteToWithdraw,
    SessionClosed,
    WrongBallotShape,
)
from shared.eventstore import AccordAggregate

Ballot = dict[str, Any]


class Prioritization(AccordAggregate):
    """One session on one contract; a later session re-prioritizes, earlier ones stay."""

    @event("PrioritizationOpened")
    def __init__(
        self,
        contract_id: UUID,
        expectations: list[str],
        voters: list[str],
        method: str,
        dots: int | None,
        closes_at: datetime | None,
        opened_by: str,
    ) -> None:
        self._contract_id = contract_id
        self.expectations = expectations
        self.voters = voters
        self.method = Method(method)
        self.dots = dots
        self.closes_at = closes_at
        self.opened_by = opened_by
        self.ballots: dict[str, Ballot] = {}
        self.closed = False
        self.result: dict[str, Any] | None = None

    @property
    def contract_id(self) -> UUID:
        return self._contract_id

    @classmethod
    def open(
        cls,
        contract_id: UUID,
        expectations: list[str],
        voters: list[str],
        method: Method,
        opened_by: str,
        dots: int | None = None,
        closes_at: datetime | None = None,
    ) -> Prioritization:
        """Open a session, refusing one that could never produce a ranking."""
        if not expectations:
            raise NothingToPrioritize("There are no measurable expectations to prioritize yet.")
        if not voters:
            raise NothingToPrioritize("The contract has no client decision makers to vote.")
        ordered = list(distinct_expectations(expectations))
        if method is Method.KEMENY and len(ordered) > KEMENY_LIMIT:
            raise TooManyForKemeny(len(ordered), KEMENY_LIMIT)
        if method is Method.DOTS and (dots is None or dots <= 0):
            raise WrongBallotShape("Dot voting needs a positive number of dots for each voter.")
        if method is not Method.DOTS and dots is not None:
            raise WrongBallotShape(f"{method.value} counts rankings, not dots.")
        return cls(
            contract_id, ordered, sorted(set(voters)), method.value, dots, closes_at, opened_by
        )

    def is_open(self, now: datetime) -> bool:
        return not self.closed and (self.closes_at is None or now < self.closes_at)

    def cast(self, voter: str, ballot: Ballot, now: datetime) -> bool:
        """Record a ballot (replacing the voter's earlier one); False when it changes nothing."""
        self._check_voting(voter, now)
        if self.method is Method.DOTS:
            dots = ballot.get("dots")
            if not isinstance(dots, dict) or ballot.get("ranking") is not None:
                raise WrongBallotShape("This session uses dot voting: allocate dots, do not rank.")
            assert self.dots is not None
            validate_dots(voter, dots, self.expectations, self.dots)
            normal: Ballot = {"ranking": None, "dots": dict(sorted(dots.items()))}
        else:
            ranking = ballot.get("ranking")
            if not isinstance(ranking, list) or ballot.get("dots") is not None:
                raise WrongBallotShape(f"This session uses {self.method.value}: rank, not dots.")
            validate_ranking(voter, ranking, self.expectations)
            normal = {"ranking": list(ranking), "dots": None}
        if self.ballots.get(voter) == normal:
            return False  # the same ballot again: idempotent
        self._vote_cast(voter, normal["ranking"], normal["dots"])
        return True

    @event("VoteCast")
    def _vote_cast(
        self, voter: str, ranking: list[str] | None, dots: dict[str, int] | None
    ) -> None:
        self.ballots[voter] = {"ranking": ranking, "dots": dots}

    def withdraw(self, voter: str, now: datetime) -> None:
        self._check_voting(voter, now)
        if voter not in self.ballots:
            raise NoVoteToWithdraw(voter)
        self._vote_withdrawn(voter)

    @event("VoteWithdrawn")
    def _vote_withdrawn(self, voter: str) -> None:
        del self.ballots[voter]

    def _check_voting(self, voter: str, now: datetime) -> None:
        if not self.is_open(now):
            raise SessionClosed(self.id)
        if voter not in self.voters:
            raise NotEligible(voter)

    def close(self, closed_by: str, advice: dict[str, list[str]]) -> None:
        """Close the session and publish the corporate ranking with its measures."""
        if self.closed:
            raise SessionClosed(self.id)
        if not self.ballots:
            raise NoVotes()
        result = self.count()
        positions = {
            voter: positions_of_dots(b["dots"], self.expectations)
            if b["dots"] is not None
            else positions_of_ranking(b["ranking"])
            for voter, b in self.ballots.items()
        }
        agreement = measure(result.ranking, positions)
        self._closed(closed_by, len(self.ballots), len(self.voters))
        self._published(
            ranking=list(result.ranking),
            method=result.method.value,
            result=result.as_dict(),
            agreement=agreement.as_dict(),
            turnout={"voted": len(self.ballots), "eligible": len(self.voters)},
            advice={e: advice.get(e, []) for e in result.ranking},
        )

    def count(self) -> RankingResult:
        if self.method is Method.DOTS:
            assert self.dots is not None
            allocations = {v: b["dots"] for v, b in self.ballots.items()}
            return dot_voting(self.expectations, allocations, self.dots)
        rankings = {v: b["ranking"] for v, b in self.ballots.items()}
        return RANKED_METHODS[self.method](self.expectations, rankings)

    @event("PrioritizationClosed")
    def _closed(self, closed_by: str, voted: int, eligible: int) -> None:
        self.closed = True

    @event("CorporatePrioritiesPublished")
    def _published(
        self,
        ranking: list[str],
        method: str,
        result: dict[str, Any],
        agreement: dict[str, Any],
        turnout: dict[str, int],
        advice: dict[str, list[str]],
    ) -> None:
        self.result = {
            "ranking": ranking,
            "method": method,
            "result": result,
            "agreement": agreement,
            "turnout": turnout,
            "advice": advice,
        }
