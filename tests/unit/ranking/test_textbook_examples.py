"""Each method gives the answer the textbooks give."""

from __future__ import annotations

import json

from services.ranking.methods import borda, dot_voting, kemeny, schulze
from tests.unit.ranking.profiles import SCHULZE_45, TENNESSEE, ballots_from

FIVE = list("ABCDE")
CITIES = list("MNCK")


def test_schulze_ranks_the_45_voter_example_e_a_c_b_d() -> None:
    result = schulze(FIVE, SCHULZE_45)
    assert result.ranking == ("E", "A", "C", "B", "D")
    assert result.scores == {"E": 4, "A": 3, "C": 2, "B": 1, "D": 0}
    assert result.voters == 45


def test_schulze_shows_the_textbook_pairwise_matrix() -> None:
    result = schulze(FIVE, SCHULZE_45)
    assert result.pairwise == {
        "A": {"B": 20, "C": 26, "D": 30, "E": 22},
        "B": {"A": 25, "C": 16, "D": 33, "E": 18},
        "C": {"A": 19, "B": 29, "D": 17, "E": 24},
        "D": {"A": 15, "B": 12, "C": 28, "E": 14},
        "E": {"A": 23, "B": 27, "C": 21, "D": 31},
    }


def test_schulze_shows_the_textbook_strongest_paths() -> None:
    result = schulze(FIVE, SCHULZE_45)
    assert result.strongest_paths == {
        "A": {"B": 28, "C": 28, "D": 30, "E": 24},
        "B": {"A": 25, "C": 28, "D": 33, "E": 24},
        "C": {"A": 25, "B": 29, "D": 29, "E": 24},
        "D": {"A": 25, "B": 28, "C": 28, "E": 24},
        "E": {"A": 25, "B": 28, "C": 28, "D": 31},
    }


def test_borda_elects_nashville_in_the_tennessee_example() -> None:
    result = borda(CITIES, TENNESSEE)
    assert result.scores == {"M": 126, "N": 194, "C": 173, "K": 107}
    assert result.ranking == ("N", "C", "M", "K")
    assert result.ties == ()


def test_schulze_and_kemeny_follow_the_majorities_in_the_tennessee_example() -> None:
    # Every pairwise majority points the same way (N > C > K > M), so both methods follow it.
    assert schulze(CITIES, TENNESSEE).ranking == ("N", "C", "K", "M")
    assert kemeny(CITIES, TENNESSEE).ranking == ("N", "C", "K", "M")


def test_kemeny_breaks_a_majority_cycle_at_its_weakest_link() -> None:
    # A beats B 6-3, B beats C 7-2, C beats A 5-4: reversing the 5-4 costs least.
    ballots = ballots_from([(4, "ABC"), (3, "BCA"), (2, "CAB")])
    result = kemeny(list("ABC"), ballots)
    assert result.ranking == ("A", "B", "C")
    assert result.disagreement == 3 + 2 + 5
    assert result.ties == ()


def test_kemeny_scores_count_the_voter_pairs_that_agree_with_each_place() -> None:
    ballots = ballots_from([(4, "ABC"), (3, "BCA"), (2, "CAB")])
    result = kemeny(list("ABC"), ballots)
    # A above B (6) and above C (4); B below A (6) and above C (7); C below A (4) and B (7).
    assert result.scores == {"A": 10, "B": 13, "C": 11}


def test_a_single_ballot_is_the_corporate_ranking_under_every_ranked_method() -> None:
    ballots = {"ana": ["C", "A", "D", "B"]}
    for method in (borda, schulze, kemeny):
        assert method(list("ABCD"), ballots).ranking == ("C", "A", "D", "B")


def test_dot_voting_ranks_by_total_dots() -> None:
    ballots = {
        "ana": {"uptime": 6, "latency": 4},
        "ben": {"uptime": 2, "reports": 8},
        "eve": {"latency": 5, "reports": 1, "support": 4},
    }
    result = dot_voting(["latency", "reports", "support", "uptime"], ballots, dots=10)
    assert result.scores == {"latency": 9, "reports": 9, "support": 4, "uptime": 8}
    # latency and reports tie on 9; latency has more dots than reports from two voters of three.
    assert result.ranking == ("latency", "reports", "uptime", "support")
    assert result.pairwise["latency"]["reports"] == 2
    assert [(tie.candidates, tie.rule.value) for tie in result.ties] == [
        (("latency", "reports"), "head_to_head")
    ]


def test_a_result_is_plain_json() -> None:
    result = schulze(FIVE, SCHULZE_45)
    as_json = json.loads(json.dumps(result.as_dict()))
    assert as_json["method"] == "schulze"
    assert as_json["ranking"] == ["E", "A", "C", "B", "D"]
    assert as_json["strongest_paths"]["E"]["D"] == 31
    assert as_json["disagreement"] is None
