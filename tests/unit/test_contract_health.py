"""Contract health is a pure function of its parts: always from 0 to 100, never higher for
more of anything wrong, never lower for more delivered; each part shows what it cost."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.gateway.health import period_ends
from services.gateway.health_score import (
    ATTAINMENT_POINTS,
    POINTS_EACH,
    Facts,
    HealthPartName,
    Measured,
    health,
)

ids = st.lists(st.uuids().map(str), max_size=12, unique=True).map(tuple)
measured = st.lists(
    st.builds(Measured, st.uuids().map(str), st.integers(1, 20), st.booleans()), max_size=12
).map(tuple)
facts = st.builds(
    Facts,
    measured=measured,
    gaps_without_plan=ids,
    overdue_obligations=ids,
    unacknowledged_risks=ids,
    missed_deadlines=ids,
    open_suspect_links=ids,
)
COUNTED = list(POINTS_EACH)


@given(facts)
def test_the_score_stays_between_0_and_100_and_is_100_less_what_the_parts_cost(f: Facts) -> None:
    found = health(f)
    assert 0 <= found.score <= 100
    assert found.score == max(0, 100 - sum(p.points_lost for p in found.parts))
    assert [p.name for p in found.parts] == list(HealthPartName)


@given(facts, st.sampled_from(COUNTED), st.uuids().map(str))
def test_one_more_item_of_any_part_never_raises_the_score(
    f: Facts, part: HealthPartName, item: str
) -> None:
    more = replace(f, **{part.value: (*f.items(part), item)})
    assert health(more).score <= health(f).score


@given(facts, st.integers(0, 11))
def test_an_expectation_that_now_meets_its_terms_never_lowers_the_score(f: Facts, i: int) -> None:
    if i >= len(f.measured):
        return
    better = list(f.measured)
    better[i] = replace(better[i], met=True)
    assert health(replace(f, measured=tuple(better))).score >= health(f).score


def test_nothing_amiss_and_nothing_measured_is_100() -> None:
    found = health(Facts())
    assert (found.score, found.attainment) == (100, None)
    assert all(p.points_lost == 0 for p in found.parts)


def test_the_worked_example_of_the_guide() -> None:
    # Ranked 1..4 (weights 4, 3, 2, 1): the first and the third met, the second missed with no
    # plan; one obligation overdue, one suspect link open.
    f = Facts(
        measured=(Measured("a", 4, True), Measured("b", 3, False), Measured("c", 2, True)),
        gaps_without_plan=("b",),
        overdue_obligations=("o",),
        open_suspect_links=("s",),
    )
    found = health(f)
    lost = {p.name: p.points_lost for p in found.parts}
    assert found.attainment == Decimal("0.6667")
    assert lost[HealthPartName.ATTAINMENT] == 13  # 40 x 3/9 = 13.3
    assert lost[HealthPartName.GAPS_WITHOUT_PLAN] == 10
    assert lost[HealthPartName.OVERDUE_OBLIGATIONS] == 5
    assert lost[HealthPartName.OPEN_SUSPECT_LINKS] == 2
    assert found.score == 70
    assert {p.name: p.items for p in found.parts}[HealthPartName.ATTAINMENT] == ("b",)


def test_a_gap_given_a_recovery_plan_gives_back_its_points() -> None:
    missed = (Measured("b", 3, False),)
    before = health(Facts(measured=missed, gaps_without_plan=("b",)))
    after = health(Facts(measured=missed))
    assert after.score - before.score == POINTS_EACH[HealthPartName.GAPS_WITHOUT_PLAN]
    assert before.score == 100 - ATTAINMENT_POINTS - 10


def test_a_trend_reaching_before_any_instant_keeps_only_the_periods_that_exist() -> None:
    now = datetime(2027, 3, 1, tzinfo=UTC)
    assert period_ends(now, 3, timedelta(days=7)) == [
        now - timedelta(days=14), now - timedelta(days=7), now,
    ]  # fmt: skip
    assert period_ends(now, 3, timedelta(days=999_999_999)) == [now]
