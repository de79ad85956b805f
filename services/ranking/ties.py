"""Breaking ties the same way every time, and saying how, so a facilitator can explain each one.

Expectations level on a method's own criterion (equal Borda points, equal dots, neither beating
the other by Schulze's strongest paths, or equally good next places for Kemeny-Young) are
ordered by these rules, each applied only when the ones before it leave them level:

1. Head-to-head: among the tied expectations, the one that beats more of the others
   head-to-head (more voters put it above) goes first. With two tied, the one more voters
   prefer goes first.
2. First places: the one more voters ranked first (with dots: gave their most dots) goes first.
3. Expectation id: the one whose id sorts first (code-point order) goes first. Ids are unique,
   so this always ends the tie; it is arbitrary but fixed, and never depends on ballot order.

Whenever a rule separates a tie only in part, each group still level is broken again from rule
1, among that group alone (head-to-head among fewer expectations can decide what it could not
among more). Every step that separates anything is recorded as a TieBreak.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.ranking.tally import Tally


class TieRule(StrEnum):
    """The rules, in the order they are tried."""

    HEAD_TO_HEAD = "head_to_head"
    FIRST_PLACES = "first_places"
    EXPECTATION_ID = "expectation_id"


@dataclass(frozen=True)
class TieBreak:
    """One step of breaking a tie: who was level, for which place, by what rule, into what order."""

    # The first place (1 for the top) the tied group competes for. Under Kemeny-Young the
    # candidates are those that could take that one place in a ranking of least disagreement:
    # the first of `order` takes it, and the others compete again for the places below.
    position: int
    candidates: tuple[str, ...]
    rule: TieRule
    # Each candidate's value under the rule (head-to-head wins in the group, or first places);
    # empty for the expectation-id rule.
    values: dict[str, int]
    # The groups the rule made, best first; a group of several is broken by a later TieBreak.
    order: tuple[tuple[str, ...], ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "position": self.position,
            "candidates": list(self.candidates),
            "rule": self.rule.value,
            "values": dict(self.values),
            "order": [list(group) for group in self.order],
        }


def _head_to_head(group: Sequence[int], tally: Tally) -> list[int]:
    return [sum(1 for other in group if tally.beats(one, other)) for one in group]


def _first_places(group: Sequence[int], tally: Tally) -> list[int]:
    return [tally.first_places[one] for one in group]


def _expectation_id(group: Sequence[int], tally: Tally) -> list[int]:
    # Indexes follow id order, so the lower index is the id that sorts first.
    return [-one for one in group]


_RULES: tuple[tuple[TieRule, Callable[[Sequence[int], Tally], list[int]]], ...] = (
    (TieRule.HEAD_TO_HEAD, _head_to_head),
    (TieRule.FIRST_PLACES, _first_places),
    (TieRule.EXPECTATION_ID, _expectation_id),
)


def break_tie(
    group: Sequence[int], tally: Tally, position: int
) -> tuple[list[int], list[TieBreak]]:
    """Order expectations level on the method's criterion, and record each step that did it."""
    group = sorted(group)
    if len(group) < 2:
        return group, []
    names = tally.expectations
    for rule, values_of in _RULES:
        values = values_of(group, tally)
        levels = sorted(set(values), reverse=True)
        if len(levels) == 1:
            continue
        groups = [
            [one for one, value in zip(group, values, strict=True) if value == level]
            for level in levels
        ]
        step = TieBreak(
            position=position,
            candidates=tuple(names[one] for one in group),
            rule=rule,
            values={}
            if rule is TieRule.EXPECTATION_ID
            else {names[one]: value for one, value in zip(group, values, strict=True)},
            order=tuple(tuple(names[one] for one in level) for level in groups),
        )
        order: list[int] = []
        steps = [step]
        for level in groups:
            level_order, level_steps = break_tie(level, tally, position + len(order))
            order.extend(level_order)
            steps.extend(level_steps)
        return order, steps
    raise AssertionError("unreachable: expectation ids are unique, so the last rule separates")


def rank_by_score(scores: Sequence[int], tally: Tally) -> tuple[list[int], list[TieBreak]]:
    """Highest score first; equal scores broken by the tie rules."""
    by_score: dict[int, list[int]] = {}
    for one, score in enumerate(scores):
        by_score.setdefault(score, []).append(one)
    order: list[int] = []
    steps: list[TieBreak] = []
    for score in sorted(by_score, reverse=True):
        level_order, level_steps = break_tie(by_score[score], tally, len(order) + 1)
        order.extend(level_order)
        steps.extend(level_steps)
    return order, steps
