"""Ballots: the two shapes a vote takes, the rules each keeps, and positions for the measures."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from services.ranking.errors import (
    BallotDuplicate,
    BallotIncomplete,
    BallotUnknownExpectation,
    DotsNegative,
    DotsWrongTotal,
    NoVotes,
)

# A full ranking of the ballot's expectation ids, most important first.
RankedBallot = Sequence[str]
# Dots per expectation id; an expectation left out got no dots.
DotBallot = Mapping[str, int]
# Each expectation's position on one ballot, 1 for first; tied expectations share the average.
Positions = Mapping[str, float]


def distinct_expectations(expectations: Sequence[str]) -> tuple[str, ...]:
    """The ballot's expectation ids in id order; a session never lists one twice."""
    ordered = tuple(sorted(expectations))
    if len(set(ordered)) != len(ordered):
        raise ValueError("The ballot lists an expectation more than once.")
    return ordered


def validate_ranking(voter: str, ranking: RankedBallot, expectations: Collection[str]) -> None:
    """A ranking ranks every expectation on the ballot exactly once, and nothing else."""
    seen: set[str] = set()
    for expectation in ranking:
        if expectation not in expectations:
            raise BallotUnknownExpectation(voter, expectation)
        if expectation in seen:
            raise BallotDuplicate(voter, expectation)
        seen.add(expectation)
    if len(seen) != len(expectations):
        raise BallotIncomplete(voter, tuple(sorted(set(expectations) - seen)))


def validate_dots(
    voter: str, allocation: DotBallot, expectations: Collection[str], dots: int
) -> None:
    """A dot allocation spends exactly `dots` on the ballot's expectations, none negative."""
    for expectation, given in allocation.items():
        if expectation not in expectations:
            raise BallotUnknownExpectation(voter, expectation)
        if given < 0:
            raise DotsNegative(voter, expectation, given)
    spent = sum(allocation.values())
    if spent != dots:
        raise DotsWrongTotal(voter, spent, dots)


def validate_rankings(expectations: Sequence[str], ballots: Mapping[str, RankedBallot]) -> None:
    """Every ranked ballot keeps the rules, and there is at least one."""
    if not ballots:
        raise NoVotes()
    on_ballot = frozenset(expectations)
    for voter, ranking in ballots.items():
        validate_ranking(voter, ranking, on_ballot)


def validate_allocations(
    expectations: Sequence[str], ballots: Mapping[str, DotBallot], dots: int
) -> None:
    """Every dot ballot keeps the rules, and there is at least one."""
    if dots <= 0:
        raise ValueError(f"Each voter needs a positive number of dots, not {dots}.")
    if not ballots:
        raise NoVotes()
    on_ballot = frozenset(expectations)
    for voter, allocation in ballots.items():
        validate_dots(voter, allocation, on_ballot, dots)


def positions_of_ranking(ranking: RankedBallot) -> dict[str, float]:
    """Positions on a full ranking: 1, 2, 3, ... in the voter's order."""
    return {expectation: float(place) for place, expectation in enumerate(ranking, start=1)}


def positions_of_dots(allocation: DotBallot, expectations: Sequence[str]) -> dict[str, float]:
    """Positions by dots, most first; expectations given equal dots share their average position."""
    by_dots: dict[int, list[str]] = {}
    for expectation in expectations:
        by_dots.setdefault(allocation.get(expectation, 0), []).append(expectation)
    positions: dict[str, float] = {}
    before = 0
    for given in sorted(by_dots, reverse=True):
        level = by_dots[given]
        # Places before+1 .. before+len(level), averaged: the usual mid-rank for ties.
        shared = before + (len(level) + 1) / 2
        for expectation in level:
            positions[expectation] = shared
        before += len(level)
    return positions
