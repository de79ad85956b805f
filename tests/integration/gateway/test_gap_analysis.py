"""The gap analysis on real PostgreSQL: measurements shown as the elicitation service judged
them, weighted by corporate priority; ones recorded before the events carried their judgement
read as the gateway reckoned them then, in read models made before and after the change."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from decimal import Decimal
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from services.gateway.gap_analysis import GapEntry, gap_analyses
from services.gateway.projections import dispatch
from services.gateway.projections.schema import create_tables
from shared.commands.elicitation import Comparison
from shared.database import create_pool
from shared.envelope import Envelope
from tests.integration.gateway.story import AMIRA, REPORT_TERMS, SAM, Story, whole_story


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    schema = f"readmodel_test_{uuid4().hex[:8]}"
    pool = await create_pool(database_url, schema)
    try:
        async with pool.acquire() as conn:
            await create_tables(conn)
        yield pool
    finally:
        await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()


async def project(pool: asyncpg.Pool, envelopes: Iterable[Envelope]) -> None:
    """Each event applied in a transaction of its own, as the projector would."""
    async with pool.acquire() as conn:
        for envelope in envelopes:
            async with conn.transaction():
                await dispatch.apply(conn, envelope)


def judged_in_july(story: Story, expectation: str, revision: int, terms: dict[str, Any],
                   value: str, short: str, relative: str) -> None:  # fmt: skip
    """New terms for the expectation, and a July measurement that carries its judgement."""
    story.elicit(
        "ExpectationRefined", expectation, AMIRA, expectation_id=expectation, revision=revision,
        text="Revised in the quarterly review", terms=terms, reason="Quarterly review",
        refined_by=AMIRA, measurable=True, missing_for_measurable=[],
    )  # fmt: skip
    story.elicit(
        "MeasurementRecorded", expectation, SAM, expectation_id=expectation,
        measurement_id=str(uuid4()), revision=revision, period_start="2025-07-01",
        period_end="2025-07-31", value=value, unit=terms["unit"], source="July report",
        met=short == "0", shortfall=short, recorded_by=SAM, relative_shortfall=relative,
        comparison=terms["comparison"], target=terms["target"],
        target_upper=terms["target_upper"],
    )  # fmt: skip


def by_expectation(entries: list[GapEntry]) -> dict[str, GapEntry]:
    return {entry.expectation_id: entry for entry in entries}


async def test_old_measurements_read_as_the_gateway_reckoned_them(pool: asyncpg.Pool) -> None:
    story = whole_story()  # its measurements were published without their judgement
    await project(pool, [*story.ranking, *story.elicitation])
    [entries] = await gap_analyses(pool, [story.ids.contract])
    scanners = by_expectation(entries)[story.ids.scanners]
    assert (scanners.priority, scanners.weight, scanners.flagged) == (2, 2, True)
    assert scanners.measurement_id == story.ids.june and scanners.gap_id is None
    assert (scanners.comparison, scanners.target, scanners.value) == (
        Comparison.AT_LEAST, Decimal(92), Decimal(90),
    )  # fmt: skip
    # Short by 2 of 92, to a millionth, and weight 2.
    assert scanners.relative_shortfall == Decimal("0.021739")
    assert scanners.weighted_shortfall == Decimal("0.043478")


async def test_a_measurement_is_shown_as_its_event_judged_it(pool: asyncpg.Pool) -> None:
    story = whole_story()
    i = story.ids
    minutes = {**REPORT_TERMS, "metric": "Minutes to swap a tablet", "unit": "minutes"}
    judged_in_july(
        story, i.trucks, 3, {**minutes, "comparison": "within_range", "target": "15",
        "target_upper": "30"}, "45", "15", "0.5",
    )  # fmt: skip
    judged_in_july(
        story, i.report, 5, {**REPORT_TERMS, "metric": "Reports late", "target": "0"}, "3", "3",
        "3",
    )  # fmt: skip
    await project(pool, [*story.ranking, *story.elicitation])
    [entries] = await gap_analyses(pool, [i.contract])
    trucks, report = by_expectation(entries)[i.trucks], by_expectation(entries)[i.report]
    # 15 to 30 minutes and 45 taken: the range, 15 over its upper bound, half of it again.
    assert (trucks.comparison, trucks.target, trucks.target_upper) == (
        Comparison.WITHIN_RANGE, Decimal(15), Decimal(30),
    )  # fmt: skip
    assert (trucks.shortfall, trucks.relative_shortfall) == (Decimal(15), Decimal("0.5"))
    assert (trucks.weight, trucks.weighted_shortfall, trucks.flagged) == (1, Decimal("0.5"), False)
    # At most 0 late reports and 3 were: first in priority, so weight 3 and flagged.
    assert (report.target, report.shortfall, report.relative_shortfall) == (0, 3, 3)
    assert (report.weight, report.weighted_shortfall, report.flagged) == (3, Decimal(9), True)


async def test_a_read_model_made_before_the_relative_shortfall_column_gains_it(
    pool: asyncpg.Pool,
) -> None:
    story = whole_story()
    await project(pool, [*story.ranking, *story.elicitation])
    # As a read model made before: no column, so no views over it either.
    await pool.execute("ALTER TABLE measurements DROP COLUMN relative_shortfall CASCADE")
    async with pool.acquire() as conn:
        await create_tables(conn)
    [entries] = await gap_analyses(pool, [story.ids.contract])
    scanners = by_expectation(entries)[story.ids.scanners]
    assert scanners.weighted_shortfall == Decimal("0.043478")
