"""What a bad ballot gets: a named error with a stable code, saying whose ballot and what to fix."""

from __future__ import annotations

import pytest

from services.ranking.errors import (
    BallotDuplicate,
    BallotIncomplete,
    BallotUnknownExpectation,
    DotsNegative,
    DotsWrongTotal,
    NoVotes,
    TooManyForKemeny,
)
from services.ranking.methods import RANKED_METHODS, borda, dot_voting, kemeny

EXPECTATIONS = ["latency", "reports", "uptime"]


def test_a_ranking_that_leaves_an_expectation_out_is_incomplete() -> None:
    with pytest.raises(BallotIncomplete) as refused:
        borda(EXPECTATIONS, {"ana": ["uptime", "latency"]})
    assert refused.value.code == "BALLOT_INCOMPLETE"
    assert refused.value.details == {"voter": "ana", "missing": ["reports"]}
    assert "does not rank reports" in refused.value.message


def test_a_ranking_that_names_an_expectation_twice_is_a_duplicate() -> None:
    with pytest.raises(BallotDuplicate) as refused:
        borda(EXPECTATIONS, {"ana": ["uptime", "latency", "uptime"]})
    assert refused.value.code == "BALLOT_DUPLICATE"
    assert refused.value.details == {"voter": "ana", "expectation": "uptime"}


def test_a_ranking_that_names_another_expectation_is_refused() -> None:
    with pytest.raises(BallotUnknownExpectation) as refused:
        borda(EXPECTATIONS, {"ana": ["uptime", "latency", "reports", "coffee"]})
    assert refused.value.code == "BALLOT_UNKNOWN_EXPECTATION"
    assert "coffee" in refused.value.message


def test_every_ranked_method_checks_every_ballot() -> None:
    ballots = {"ana": ["uptime", "latency", "reports"], "ben": ["uptime", "latency"]}
    for ranked in RANKED_METHODS.values():
        with pytest.raises(BallotIncomplete):
            ranked(EXPECTATIONS, ballots)


def test_dots_that_do_not_add_up_are_refused() -> None:
    with pytest.raises(DotsWrongTotal) as refused:
        dot_voting(EXPECTATIONS, {"ana": {"uptime": 6, "latency": 3}}, dots=10)
    assert refused.value.code == "DOTS_WRONG_TOTAL"
    assert refused.value.details == {"voter": "ana", "spent": 9, "dots": 10}
    assert "allocate exactly 10" in refused.value.message


def test_negative_dots_are_refused_even_when_the_total_is_right() -> None:
    with pytest.raises(DotsNegative) as refused:
        dot_voting(EXPECTATIONS, {"ana": {"uptime": 12, "latency": -2}}, dots=10)
    assert refused.value.code == "DOTS_NEGATIVE"
    assert refused.value.details == {"voter": "ana", "expectation": "latency", "given": -2}


def test_dots_on_an_expectation_not_on_the_ballot_are_refused() -> None:
    with pytest.raises(BallotUnknownExpectation):
        dot_voting(EXPECTATIONS, {"ana": {"uptime": 5, "coffee": 5}}, dots=10)


def test_counting_no_votes_is_refused_by_every_method() -> None:
    for ranked in RANKED_METHODS.values():
        with pytest.raises(NoVotes) as refused:
            ranked(EXPECTATIONS, {})
        assert refused.value.code == "NO_VOTES"
    with pytest.raises(NoVotes):
        dot_voting(EXPECTATIONS, {}, dots=10)


def test_kemeny_refuses_more_than_nine_expectations_and_takes_nine() -> None:
    ten = [f"E{number}" for number in range(10)]
    with pytest.raises(TooManyForKemeny) as refused:
        kemeny(ten, {"ana": ten})
    assert refused.value.code == "KEMENY_TOO_MANY"
    assert refused.value.details == {"expectations": 10, "limit": 9}
    nine = ten[:9]
    assert kemeny(nine, {"ana": nine[::-1]}).ranking == tuple(nine[::-1])
