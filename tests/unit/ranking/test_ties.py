"""Ties are broken the same way every time, and every step is shown to the facilitator."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ranking.methods import borda, dot_voting, kemeny, schulze
from services.ranking.ties import TieBreak, TieRule
from tests.unit.ranking.profiles import ballots_from


def test_equal_borda_points_go_to_the_head_to_head_winner() -> None:
    # A and B both score 4; two voters of three put A above B.
    result = borda(list("ABC"), ballots_from([(2, "ABC"), (1, "BCA")]))
    assert result.scores == {"A": 4, "B": 4, "C": 1}
    assert result.ranking == ("A", "B", "C")
    assert result.ties == (
        TieBreak(
            position=1,
            candidates=("A", "B"),
            rule=TieRule.HEAD_TO_HEAD,
            values={"A": 1, "B": 0},
            order=(("A",), ("B",)),
        ),
    )


def test_level_head_to_head_goes_to_more_first_places() -> None:
    ballots = ballots_from([(1, "DCBA"), (1, "CBDA"), (1, "ABCD"), (1, "DABC")])
    result = borda(list("ABCD"), ballots)
    assert result.scores["B"] == result.scores["C"]
    assert result.pairwise["B"]["C"] == result.pairwise["C"]["B"]
    assert result.ranking == ("D", "C", "B", "A")
    assert [(tie.candidates, tie.rule, tie.values) for tie in result.ties] == [
        (("B", "C"), TieRule.FIRST_PLACES, {"B": 0, "C": 1})
    ]


def test_a_perfect_cycle_falls_to_the_expectation_id() -> None:
    result = borda(list("ABC"), ballots_from([(1, "ABC"), (1, "BCA"), (1, "CAB")]))
    assert result.ranking == ("A", "B", "C")
    assert result.ties == (
        TieBreak(
            position=1,
            candidates=("A", "B", "C"),
            rule=TieRule.EXPECTATION_ID,
            values={},
            order=(("A",), ("B",), ("C",)),
        ),
    )


def test_a_tie_split_in_part_is_broken_again_among_those_still_level() -> None:
    # A, C, D tie on Borda points. Head-to-head A beats C, C beats D, A and D are level: D
    # drops to third, and between A and C alone, A wins.
    ballots = ballots_from([(2, "BACD"), (1, "DBAC"), (1, "CDBA")])
    result = borda(list("ABCD"), ballots)
    assert result.ranking == ("B", "A", "C", "D")
    assert [(tie.position, tie.candidates, tie.values, tie.order) for tie in result.ties] == [
        (2, ("A", "C", "D"), {"A": 1, "C": 1, "D": 0}, (("A", "C"), ("D",))),
        (2, ("A", "C"), {"A": 1, "C": 0}, (("A",), ("C",))),
    ]


def test_schulze_breaks_its_ties_by_the_same_rules() -> None:
    result = schulze(list("ABC"), ballots_from([(1, "ABC"), (1, "BCA"), (1, "CAB")]))
    assert result.ranking == ("A", "B", "C")
    assert [tie.rule for tie in result.ties] == [TieRule.EXPECTATION_ID]


def test_kemeny_names_who_could_take_the_place_and_why_one_did() -> None:
    # Each rotation of the cycle disagrees with the ballots on 4 voter-pairs; any other on 5.
    result = kemeny(list("ABC"), ballots_from([(1, "ABC"), (1, "BCA"), (1, "CAB")]))
    assert result.ranking == ("A", "B", "C")
    assert result.disagreement == 4
    assert [(tie.position, tie.candidates, tie.rule) for tie in result.ties] == [
        (1, ("A", "B", "C"), TieRule.EXPECTATION_ID)
    ]


def test_dot_ties_count_first_places_as_the_voters_biggest_allocation() -> None:
    ballots = {"ana": {"A": 3, "B": 2}, "ben": {"B": 3, "A": 2}, "eve": {"C": 5}}
    result = dot_voting(list("ABC"), ballots, dots=5)
    # All three have 5 dots; A and B beat C head-to-head 2-1, and are level with each other.
    assert result.ranking == ("A", "B", "C")
    assert [(tie.candidates, tie.rule, tie.values) for tie in result.ties] == [
        (("A", "B", "C"), TieRule.HEAD_TO_HEAD, {"A": 1, "B": 1, "C": 0}),
        (("A", "B"), TieRule.EXPECTATION_ID, {}),
    ]


NAMES = ["uptime", "latency", "reports", "support", "backups"]
profiles = st.integers(min_value=2, max_value=5).flatmap(
    lambda size: st.lists(st.permutations(NAMES[:size]), min_size=1, max_size=8)
)


@settings(max_examples=150, deadline=None)
@given(profiles, st.randoms(use_true_random=False))
def test_the_same_ballots_in_any_order_give_the_same_result(
    rankings: list[list[str]], shuffler: random.Random
) -> None:
    expectations = sorted(rankings[0])
    ballots = {f"voter-{number}": ranking for number, ranking in enumerate(rankings)}
    voters = list(ballots)
    shuffler.shuffle(voters)
    reordered = {voter: ballots[voter] for voter in voters}
    shuffled_expectations = shuffler.sample(expectations, len(expectations))
    for method in (borda, schulze, kemeny):
        assert (
            method(expectations, ballots).as_dict()
            == method(shuffled_expectations, reordered).as_dict()
        )
    dots = {voter: {ranking[0]: 2, ranking[-1]: 1} for voter, ranking in ballots.items()}
    shuffled_dots = {voter: dots[voter] for voter in voters}
    assert (
        dot_voting(expectations, dots, 3).as_dict()
        == dot_voting(shuffled_expectations, shuffled_dots, 3).as_dict()
    )
