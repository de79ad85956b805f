"""Our Borda and Schulze winners are the winners of an independent implementation, pref_voting.

pref_voting (MIT, a test-only dependency) counts Borda as we do: on each ballot a candidate
earns one point per candidate ranked below it. Its Schulze is `beat_path`, on margins; on full
rankings margins and our winning votes give the same strongest-path comparisons. It returns
every winner; when several tie, our tie rules must pick one of them.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pref_voting.margin_based_methods import beat_path
from pref_voting.profiles import Profile
from pref_voting.scoring_methods import borda as reference_borda

from services.ranking.methods import borda, schulze

# Ids chosen so that id order differs from pref_voting's candidate numbers.
IDS = ["uptime", "latency", "reports", "support", "backups", "audits", "handover"]

profiles = st.integers(min_value=2, max_value=len(IDS)).flatmap(
    lambda size: st.lists(st.permutations(range(size)), min_size=1, max_size=25)
)


def as_ballots(rankings: list[list[int]]) -> dict[str, list[str]]:
    return {
        f"voter-{number}": [IDS[one] for one in ranking] for number, ranking in enumerate(rankings)
    }


@settings(max_examples=300, deadline=None)
@given(profiles)
def test_our_borda_puts_first_a_borda_winner(rankings: list[list[int]]) -> None:
    winners = {IDS[one] for one in reference_borda(Profile(rankings))}
    result = borda(IDS[: len(rankings[0])], as_ballots(rankings))
    assert result.ranking[0] in winners
    # The scores agree too, not only the winner.
    reference_scores = Profile(rankings).borda_scores()
    assert result.scores == {IDS[one]: int(score) for one, score in reference_scores.items()}


@settings(max_examples=300, deadline=None)
@given(profiles)
def test_our_schulze_puts_first_a_schulze_winner(rankings: list[list[int]]) -> None:
    winners = {IDS[one] for one in beat_path(Profile(rankings))}
    result = schulze(IDS[: len(rankings[0])], as_ballots(rankings))
    assert result.ranking[0] in winners
    # And the expectations nobody beats by strongest path are exactly pref_voting's winners.
    paths = result.strongest_paths
    assert paths is not None
    unbeaten = {
        name
        for name in result.ranking
        if not any(paths[other][name] > paths[name][other] for other in paths[name])
    }
    assert unbeaten == winners
