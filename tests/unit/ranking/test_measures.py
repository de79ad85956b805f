"""How much the group agrees, how far each voter sits from the corporate ranking, what divides."""

from __future__ import annotations

import json

import pytest

from services.ranking.ballots import positions_of_dots, positions_of_ranking
from services.ranking.measures import (
    concordance,
    distance,
    measure,
    position_spread,
    standing_out,
    widest,
)

ABCD = list("ABCD")


def ranked(*orders: str) -> list[dict[str, float]]:
    return [positions_of_ranking(list(order)) for order in orders]


def test_identical_ballots_agree_completely() -> None:
    assert concordance(ABCD, ranked("BADC", "BADC", "BADC")) == 1.0


def test_two_opposite_ballots_do_not_agree_at_all() -> None:
    assert concordance(ABCD, ranked("ABCD", "DCBA")) == 0.0


def test_concordance_matches_the_formula_by_hand() -> None:
    # Rank sums A=3, B=7, C=8 around a mean of 6: S=14, W = 12*14 / (3^2 * (3^3 - 3)) = 7/9.
    assert concordance(list("ABC"), ranked("ABC", "ABC", "ACB")) == pytest.approx(7 / 9)


def test_identical_dot_ballots_with_ties_agree_completely_after_the_tie_correction() -> None:
    ballots = [positions_of_dots({"A": 6, "B": 4}, ABCD) for _ in range(4)]
    assert ballots[0] == {"A": 1.0, "B": 2.0, "C": 3.5, "D": 3.5}
    assert concordance(ABCD, ballots) == pytest.approx(1.0)


def test_a_ballot_in_the_corporate_order_is_at_distance_zero() -> None:
    assert distance(positions_of_ranking(ABCD), ABCD) == 0.0


def test_a_ballot_in_the_reverse_order_is_at_distance_one() -> None:
    assert distance(positions_of_ranking(ABCD[::-1]), ABCD) == 1.0


def test_distance_is_the_share_of_pairs_ordered_the_other_way() -> None:
    # Swapping the last two reverses one pair of six.
    assert distance(positions_of_ranking(list("ABDC")), ABCD) == pytest.approx(1 / 6)


def test_pairs_a_dot_ballot_leaves_level_do_not_count() -> None:
    # All dots on the corporate last: it is above each of the three others, and each of those
    # three pairs is reversed; the three level pairs among A, B, C express nothing.
    assert distance(positions_of_dots({"D": 10}, ABCD), ABCD) == 1.0
    assert distance(positions_of_dots({"A": 10}, ABCD), ABCD) == 0.0


def test_the_voter_far_from_a_like_minded_group_is_flagged() -> None:
    ballots = {
        "ana": positions_of_ranking(ABCD),
        "ben": positions_of_ranking(ABCD),
        "eve": positions_of_ranking(list("BACD")),
        "kim": positions_of_ranking(ABCD),
        "raj": positions_of_ranking(list("DCBA")),
    }
    agreement = measure(ABCD, ballots)
    assert agreement.distances["raj"] == 1.0
    assert agreement.furthest == ("raj",)


def test_nobody_is_flagged_when_everyone_is_equally_far() -> None:
    assert standing_out({"ana": 0.25, "ben": 0.25, "eve": 0.25}) == ()


def test_spread_is_the_standard_deviation_of_positions() -> None:
    spread = position_spread(ABCD, ranked("ABCD", "DBCA"))
    assert spread == {"A": 1.5, "B": 0.0, "C": 0.0, "D": 1.5}


def test_the_most_contested_are_the_three_widest_spreads_with_ties_for_third() -> None:
    spread = {"A": 2.0, "B": 1.5, "C": 1.0, "D": 1.0, "E": 0.5, "F": 0.0}
    assert widest(spread) == ("A", "B", "C", "D")


def test_an_expectation_everyone_places_alike_is_never_contested() -> None:
    assert widest({"A": 1.0, "B": 0.0, "C": 0.0, "D": 0.0}) == ("A",)


def test_all_the_measures_come_together_as_plain_json() -> None:
    agreement = measure(
        ABCD, {"ana": positions_of_ranking(ABCD), "ben": positions_of_ranking(ABCD)}
    )
    as_json = json.loads(json.dumps(agreement.as_dict()))
    assert as_json == {
        "concordance": 1.0,
        "distances": {"ana": 0.0, "ben": 0.0},
        "furthest": [],
        "spread": {"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.0},
        "most_contested": [],
    }
