"""Kemeny-Young finds a ranking no other ranking beats, checked by trying them all."""

from __future__ import annotations

from itertools import combinations, permutations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ranking.methods import kemeny

IDS = ["uptime", "latency", "reports", "support", "backups", "audits"]

profiles = st.integers(min_value=1, max_value=len(IDS)).flatmap(
    lambda size: st.lists(st.permutations(IDS[:size]), min_size=1, max_size=12)
)


def disagreement(ranking: tuple[str, ...], ballots: list[list[str]]) -> int:
    """Voter-pairs ordered one way by the ranking and the other way by a ballot, counted plainly."""
    total = 0
    for ballot in ballots:
        place = {name: at for at, name in enumerate(ballot)}
        total += sum(1 for above, below in combinations(ranking, 2) if place[above] > place[below])
    return total


@settings(max_examples=200, deadline=None)
@given(profiles)
def test_kemeny_disagrees_with_the_ballots_as_little_as_any_ranking_can(
    ballots: list[list[str]],
) -> None:
    expectations = sorted(ballots[0])
    result = kemeny(expectations, {f"voter-{n}": ballot for n, ballot in enumerate(ballots)})
    least = min(disagreement(order, ballots) for order in permutations(expectations))
    assert disagreement(result.ranking, ballots) == least
    assert result.disagreement == least
