"""Ballots for the ranking tests, written the way a textbook writes them: count, then order."""

from __future__ import annotations

from collections.abc import Sequence


def ballots_from(groups: Sequence[tuple[int, str]]) -> dict[str, list[str]]:
    """One voter per ballot: (5, "ACBED") is five voters ranking A, C, B, E, D."""
    ballots: dict[str, list[str]] = {}
    for count, order in groups:
        for copy in range(count):
            ballots[f"{order}-{copy}"] = list(order)
    return ballots


# Wikipedia, "Schulze method": 45 voters, five candidates; the result is E > A > C > B > D.
SCHULZE_45 = ballots_from(
    [
        (5, "ACBED"),
        (5, "ADECB"),
        (8, "BEDAC"),
        (3, "CABED"),
        (7, "CAEBD"),
        (2, "CBADE"),
        (7, "DCEBA"),
        (8, "EBADC"),
    ]
)

# Wikipedia's Tennessee capital example (Borda count, Kemeny-Young), per 100 voters:
# Memphis, Nashville, Chattanooga, Knoxville.
TENNESSEE = ballots_from([(42, "MNCK"), (26, "NCKM"), (15, "CKNM"), (17, "KCNM")])
