"""A contract's life published on Kafka becomes the gateway's read models, on real PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from services.gateway import delivery, reads
from services.gateway.projections.schema import create_tables
from shared.bus_kafka import KafkaPublisher
from shared.database import create_pool
from shared.schemas.registry import topic_for
from shared.settings import Settings
from tests.integration.gateway.projecting import project_everything
from tests.integration.gateway.story import AMIRA, LI, SAM, TOM, Story, whole_story


@dataclass
class Projected:
    pool: asyncpg.Pool
    story: Story


@pytest.fixture(scope="module")
async def projected(database_url: str, kafka_bootstrap: str) -> AsyncIterator[Projected]:
    """The whole story projected; ranking's events published and projected FIRST, so the
    corporate priorities are known before the expectations they rank."""
    settings = Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)
    schema = f"readmodel_test_{uuid4().hex[:8]}"
    pool = await create_pool(database_url, schema)
    publisher = KafkaPublisher(kafka_bootstrap, "gateway-tests")
    try:
        async with pool.acquire() as conn:
            await create_tables(conn)
        story = whole_story()
        await publisher.start()
        await publisher.publish(topic_for("ranking"), story.ranking)
        await project_everything(settings, pool)
        await publisher.publish(topic_for("elicitation"), story.elicitation)
        await project_everything(settings, pool)
        yield Projected(pool, story)
    finally:
        await publisher.stop()
        await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()


async def one(pool: asyncpg.Pool, sql: str, *args: Any) -> dict[str, Any]:
    row = await pool.fetchrow(sql, *args)
    assert row is not None, f"no row for {sql} {args}"
    return dict(row)


async def test_the_contract_lists_who_takes_part_and_what_was_asked(projected: Projected) -> None:
    pool, ids = projected.pool, projected.story.ids
    contract = await one(pool, "SELECT * FROM contracts WHERE contract_id = $1", ids.contract)
    assert contract["title"] == "Managed service desk, 2025-2028"
    assert contract["starts_on"] == date(2025, 4, 1)
    # opened, five joined, one left, a deadline policy set: questions are their own
    assert contract["version"] == 8
    people = await pool.fetch(
        "SELECT person_id, role, active, left_reason FROM participants WHERE contract_id = $1"
        " ORDER BY created_at, person_id",
        ids.contract,
    )
    assert [(p["person_id"], p["active"]) for p in people][-1] == (
        "olive.berg@harbour.example",
        False,
    )
    assert sum(p["active"] for p in people) == 4
    question = await one(pool, "SELECT * FROM questions WHERE question_id = $1", ids.question)
    assert question["asked_of"] == LI and question["answered_by"] == LI
    assert question["answer"].startswith("Pickers stop")


async def test_an_expectation_shows_its_current_terms_status_advice_and_priority(
    projected: Projected,
) -> None:
    pool, ids = projected.pool, projected.story.ids
    scanners = await one(pool, "SELECT * FROM expectations WHERE expectation_id = $1", ids.scanners)
    # The recovery plan revised the target: revision 3, and the commitment carried over to it.
    assert scanners["revision"] == 3 and scanners["target"] == Decimal("92")
    assert scanners["metric"] == "Priority-1 scanner incidents resolved within 4 hours"
    assert (scanners["comparison"], scanners["unit"]) == ("at_least", "percent of incidents")
    assert scanners["status"] == "committed" and scanners["decided_revision"] == 3
    assert json.loads(scanners["commitment"])["note"] == "Two spare scanners per warehouse"
    assert (scanners["importance"], scanners["feasibility"]) == ("high", "stretch")
    assert scanners["proposers"] == [LI, TOM] and scanners["merged_from"] == [ids.duplicate]
    assert scanners["corporate_priority"] == 2  # in the second, latest ranking
    assert scanners["measurable"] and scanners["missing_for_measurable"] == []

    report = await one(pool, "SELECT * FROM expectations WHERE expectation_id = $1", ids.report)
    assert (report["revision"], report["target"], report["status"]) == (4, Decimal(7), "committed")
    assert report["decline"] is None and report["corporate_priority"] == 1
    duplicate = await one(
        pool, "SELECT * FROM expectations WHERE expectation_id = $1", ids.duplicate
    )
    assert (duplicate["status"], duplicate["merged_into"]) == ("merged", ids.scanners)
    network = await one(pool, "SELECT * FROM expectations WHERE expectation_id = $1", ids.network)
    assert network["status"] == "withdrawn" and network["corporate_priority"] is None
    assert json.loads(network["withdrawal"])["reason"] == "Covered by the group network contract"
    assert network["metric"] is None and not network["measurable"]


async def test_every_version_says_who_when_and_why_and_holds_the_state_after_it(
    projected: Projected,
) -> None:
    pool, story = projected.pool, projected.story
    versions = await pool.fetch(
        "SELECT * FROM expectation_versions WHERE expectation_id = $1 ORDER BY version",
        story.ids.report,
    )
    assert [v["version"] for v in versions] == list(range(1, len(versions) + 1))
    assert [v["event_type"] for v in versions] == [
        "ExpectationProposed", "ExpectationRefined", "ExpectationRefined",
        "ExpectationDeclined", "ExpectationRefined", "ExpectationCommitted",
        "MeasurementRecorded",
    ]  # fmt: skip
    declined = versions[3]
    assert (declined["changed_by"], declined["actor_role"]) == (AMIRA, "provider_account_manager")
    assert declined["reason"] == "Five days needs the ledger feed first"
    # A diff is two consecutive states side by side.
    before, after = (json.loads(versions[n]["state"]) for n in (3, 4))
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"revision", "text", "terms", "status"}
    assert (before["status"], after["status"]) == ("declined", "proposed")
    assert (before["terms"]["target"], after["terms"]["target"]) == ("5", "7")


async def test_the_state_as_of_a_past_moment_is_the_version_in_force_then(
    projected: Projected,
) -> None:
    pool, story = projected.pool, projected.story
    refined = next(
        e for e in story.elicitation
        if e.spec.name == "ExpectationRefined" and e.data["expectation_id"] == story.ids.scanners
    )  # fmt: skip
    state = await pool.fetchval(
        "SELECT state FROM expectation_versions WHERE expectation_id = $1 AND changed_at <= $2"
        " ORDER BY version DESC LIMIT 1",
        story.ids.scanners,
        refined.time + timedelta(seconds=30),
    )
    as_of = json.loads(state)
    assert as_of["revision"] == 2 and as_of["status"] == "proposed"
    assert as_of["terms"]["target"] == "95" and as_of["proposers"] == [LI]


async def test_obligations_keep_what_became_of_them(projected: Projected) -> None:
    pool, ids = projected.pool, projected.story.ids
    access = await one(pool, "SELECT * FROM obligations WHERE obligation_id = $1", ids.access)
    assert (access["status"], access["decided_by"]) == ("fulfilled", LI)
    assert access["breach_what_happened"] == "No access by the date"
    assert access["fulfilment_note"] == "VPN issued" and access["version"] == 4
    feed = await one(pool, "SELECT * FROM obligations WHERE obligation_id = $1", ids.data_feed)
    assert (feed["status"], feed["decline_reason"]) == ("declined", "Finance cannot export nightly")
    needed_for_scanners = await pool.fetch(
        "SELECT obligation_id FROM obligations WHERE depends_on @> ARRAY[$1]", ids.scanners
    )
    assert {r["obligation_id"] for r in needed_for_scanners} == {ids.access, ids.data_feed}


async def test_risks_carry_their_acknowledgements_actions_and_lessons(projected: Projected) -> None:
    pool, ids = projected.pool, projected.story.ids
    firmware = await one(pool, "SELECT * FROM risks WHERE risk_id = $1", ids.firmware)
    assert firmware["status"] == "resolved" and firmware["exposure"] == 12
    assert firmware["acknowledged"] and firmware["affected_expectations"] == [ids.scanners]
    acknowledged = await pool.fetch(
        "SELECT acknowledged_by FROM risk_acknowledgements WHERE risk_id = $1 ORDER BY created_at",
        ids.firmware,
    )
    assert [a["acknowledged_by"] for a in acknowledged] == [LI, TOM]
    actions = await pool.fetch(
        "SELECT action FROM remedial_actions WHERE risk_id = $1 ORDER BY created_at, action_id",
        ids.firmware,
    )
    assert [a["action"] for a in actions] == [
        "Rolled back the firmware",
        "Kept spare scanners charged",
    ]
    outage = await one(pool, "SELECT * FROM risks WHERE risk_id = $1", ids.outage)
    assert not outage["acknowledged"] and outage["status"] == "open"
    lesson = await one(pool, "SELECT * FROM lessons WHERE $1 = ANY(risk_ids)", ids.firmware)
    assert lesson["expectation_ids"] == [ids.scanners]
    action = await one(pool, "SELECT * FROM preventive_actions WHERE lesson_id = $1", ids.lesson)
    assert (action["owner"], action["due_on"]) == (SAM, date(2025, 9, 30))


async def test_measurements_show_target_against_actual_and_gaps_their_recovery(
    projected: Projected,
) -> None:
    pool, ids = projected.pool, projected.story.ids
    may = await one(pool, "SELECT * FROM measurements WHERE measurement_id = $1", ids.may)
    assert (may["target"], may["value"], may["met"], may["shortfall"]) == (
        Decimal(95), Decimal("91.5"), False, Decimal("3.5"),
    )  # fmt: skip
    june = await one(pool, "SELECT * FROM measurements WHERE measurement_id = $1", ids.june)
    assert (june["revision"], june["target"]) == (3, Decimal(92))  # judged on the revised target
    gap = await one(pool, "SELECT * FROM gaps WHERE gap_id = $1", ids.gap)
    assert (gap["steps_completed"], gap["steps_total"], gap["recovered"]) == (1, 2, False)
    assert gap["revised_target"] == Decimal(92) and gap["agreed_with"] == LI
    steps = await pool.fetch(
        "SELECT step, owner, completed, completed_by FROM recovery_steps WHERE gap_id = $1"
        " ORDER BY step",
        ids.gap,
    )
    assert [tuple(s) for s in steps] == [(1, SAM, True, SAM), (2, LI, False, None)]


async def test_the_gap_analysis_weights_by_corporate_priority_and_flags_the_top_two(
    projected: Projected,
) -> None:
    pool, ids = projected.pool, projected.story.ids
    gaps = await pool.fetch(
        "SELECT * FROM expectation_gaps WHERE contract_id = $1 ORDER BY priority",
        ids.contract,
    )
    assert [(g["expectation_id"], g["priority"], g["weight"]) for g in gaps] == [
        (ids.report, 1, 3), (ids.scanners, 2, 2), (ids.trucks, 3, 1),
    ]  # fmt: skip
    report, scanners, trucks = gaps
    assert report["met"] and not report["flagged"]
    # The latest period of a top-two expectation fell short: that one is flagged loudest.
    assert scanners["measurement_id"] == ids.june and scanners["flagged"]
    assert not trucks["met"] and not trucks["flagged"] and not trucks["top_two"]
    # Weight 2, short by 2 of 92: comparable across units.
    assert round(scanners["weighted_shortfall"], 6) == round(2 * Decimal(2) / Decimal(92), 6)


async def test_prioritizations_keep_current_ballots_and_the_published_rankings(
    projected: Projected,
) -> None:
    pool, ids = projected.pool, projected.story.ids
    first = await one(
        pool, "SELECT * FROM prioritizations WHERE session_id = $1", ids.first_session
    )
    assert (first["status"], first["voted"], first["method"]) == ("published", 2, "borda")
    ballots = await pool.fetch(
        "SELECT voter, ranking FROM ballots WHERE session_id = $1 ORDER BY voter",
        ids.first_session,
    )
    # Li voted twice: the later ballot replaced the first.
    assert [tuple(b) for b in ballots] == [
        (LI, [ids.scanners, ids.report]), (TOM, [ids.scanners, ids.report]),
    ]  # fmt: skip
    withdrawn = await pool.fetch(
        "SELECT voter FROM ballots WHERE session_id = $1", ids.second_session
    )
    assert [b["voter"] for b in withdrawn] == [TOM]
    second = await one(pool, "SELECT * FROM rankings WHERE session_id = $1", ids.second_session)
    assert second["ranking"] == [ids.report, ids.scanners, ids.trucks]
    assert second["concordance"] == 0.75 and second["turnout_voted"] == 1
    assert json.loads(second["agreement"])["distances"] == {TOM: 0.25}
    priorities = await pool.fetch(
        "SELECT expectation_id, position, weight, session_id FROM corporate_priorities"
        " WHERE contract_id = $1 ORDER BY position",
        ids.contract,
    )
    assert [(p["expectation_id"], p["weight"]) for p in priorities] == [
        (ids.report, 3), (ids.scanners, 2), (ids.trucks, 1),
    ]  # fmt: skip
    assert {p["session_id"] for p in priorities} == {ids.second_session}


async def test_the_audit_log_holds_every_event_with_its_actor(projected: Projected) -> None:
    pool, story = projected.pool, projected.story
    rows = await pool.fetch(
        "SELECT event_id, event_type, actor_id, actor_role, sequence FROM audit_log"
        " WHERE contract_id = $1",
        story.ids.contract,
    )
    published = story.elicitation + story.ranking
    assert {r["event_id"]: (r["event_type"], r["actor_id"], r["actor_role"]) for r in rows} == {
        e.id: (e.type, e.actor_id, e.actor_role) for e in published
    }
    # None of them was refused along the way.
    refused = "SELECT count(*) FROM dead_letters WHERE ce_id = ANY($1)"
    assert await pool.fetchval(refused, [e.id for e in published]) == 0


async def test_the_gateway_reads_a_question_with_the_expectations_its_answer_led_to(
    projected: Projected,
) -> None:
    pool, ids = projected.pool, projected.story.ids
    [[question]] = await reads.questions_of(pool, [ids.contract])
    assert (question.id, question.asked_of, question.answered_by) == (ids.question, LI, LI)
    assert (question.asked_by, question.recorded_by) == (AMIRA, AMIRA)
    assert question.answered_at is not None and question.answered_at > question.asked_at
    led_to = {e.id: e.status for e in question.expectations}
    assert set(led_to) == {ids.scanners, ids.report, ids.duplicate, ids.network, ids.trucks}
    assert (led_to[ids.duplicate], led_to[ids.network]) == ("merged", "withdrawn")


async def test_the_gateway_reads_who_acknowledged_a_risk_and_the_lessons_planned_from_it(
    projected: Projected,
) -> None:
    pool, ids = projected.pool, projected.story.ids
    [risks] = await reads.risks_of(pool, [ids.contract])
    firmware = next(r for r in risks if r.id == ids.firmware)
    assert [a.person_id for a in firmware.acknowledgements] == [LI, TOM]
    assert firmware.acknowledgements[0].at < firmware.acknowledgements[1].at
    assert (firmware.status, firmware.resolved_by) == ("resolved", AMIRA)
    assert firmware.resolved_at is not None and firmware.disclosed_at < firmware.resolved_at
    outage = next(r for r in risks if r.id == ids.outage)
    assert outage.acknowledgements == [] and outage.resolved_at is None
    [[lesson]] = await reads.lessons_of(pool, [ids.contract])
    assert (lesson.id, lesson.risk_ids, lesson.expectation_ids) == (
        ids.lesson, [ids.firmware], [ids.scanners],
    )  # fmt: skip
    [action] = lesson.preventive_actions
    assert (action.id, action.owner, action.due_on) == (ids.preventive, SAM, date(2025, 9, 30))


async def test_the_gateway_reads_an_expectations_measurements_gaps_and_recovery_steps(
    projected: Projected,
) -> None:
    pool, ids = projected.pool, projected.story.ids
    [measured, none] = await delivery.measurements_of(pool, [ids.scanners, ids.duplicate])
    assert none == []
    assert [(m.id, m.revision, m.target, m.gap_id) for m in measured] == [
        (ids.june, 3, Decimal(92), None), (ids.may, 2, Decimal(95), ids.gap),
    ]  # fmt: skip
    [[gap]] = await delivery.gaps_of(pool, [ids.scanners])
    assert (gap.id, gap.measurement_id, gap.shortfall) == (ids.gap, ids.may, Decimal("3.5"))
    plan = gap.recovery_plan
    assert plan is not None
    assert (plan.agreed_with, plan.revised_target, plan.revision) == (LI, Decimal(92), 3)
    assert (plan.steps_completed, plan.recovered) == (1, False)
    assert [(s.step, s.owner, s.completed, s.note) for s in plan.steps] == [
        (1, SAM, True, "Both started on 14 July"), (2, LI, False, None),
    ]  # fmt: skip
