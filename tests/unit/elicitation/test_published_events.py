"""Every elicitation event, relayed from the outbox, is published as its registered contract."""

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jsonschema

from services.elicitation.agreed_set_view import Listed
from services.elicitation.application import Elicitation
from services.elicitation.suspect_rule import flag_id
from shared.bus_memory import InProcessBus
from shared.deadlines.timing import MISSED, due_at_end_of, due_warning, instant
from shared.deadlines.worker import raise_warning
from shared.runtime import ServiceRuntime, build_runtime
from shared.schemas import registry
from shared.settings import Settings
from tests.unit.elicitation.story import AMIRA, GRACE, LI, MEASURABLE, OLIVE, ROLES, SAM, TOM

TOPIC = "accord.elicitation.v1"


class Meeting:
    """Commands through the service runtime, as the API will run them."""

    def __init__(self, runtime: ServiceRuntime[Elicitation]) -> None:
        self.runtime = runtime
        self.app = runtime.app

    async def __call__(self, command: Any, *args: Any, by: str, **kwargs: Any) -> Any:
        return await self.runtime.execute(
            command, *args, by=by, actor_id=by, actor_role=ROLES[by], **kwargs
        )


async def every_kind_of_event(do: Meeting) -> str:
    """One contract's life, touching each of the 34 published event types; its id."""
    app = do.app
    contract = (
        await do(
            app.open_contract,
            by=AMIRA,
            client_organisation="Harbour Logistics plc",
            provider_organisation="Northgate IT Services",
            title="Managed service desk",
            starts_on="2025-04-01",
            name="Amira Khan",
            role="provider_account_manager",
        )
    ).id
    for person, role in [(SAM, "provider_delivery_lead"), (LI, "client_decision_maker")]:
        await do(app.join_contract, contract, by=AMIRA, person_id=person, name=person, role=role)
    # The client's first person appoints the rest of its side; an auditor is nominated.
    await do(app.join_contract, contract, by=LI, person_id=TOM, name="Tom", role=ROLES[TOM])
    await do(
        app.join_contract, contract, by=AMIRA, person_id=OLIVE, name="Olive", role="auditor",
        side="client",
    )  # fmt: skip
    await do(app.leave_contract, contract, by=TOM, person_id=TOM, reason="Moved on")
    question = (
        await do(
            app.ask_question, contract, by=AMIRA, asked_of=LI, business_area="Ops", text="Peak?"
        )
    ).created
    await do(app.answer_question, contract, question, by=LI, answer="Q4")
    expectation = (
        await do(
            app.propose_expectation,
            contract,
            by=LI,
            text="Scanners fixed fast",
            business_area="Ops",
            from_answers=[question],
        )
    ).id
    duplicate = (
        await do(app.propose_expectation, contract, by=LI, text="Same", business_area="Ops")
    ).id
    dropped = (
        await do(app.propose_expectation, contract, by=LI, text="Later", business_area="Ops")
    ).id
    await do(
        app.refine_expectation,
        expectation,
        by=AMIRA,
        text="P1 in 4 hours",
        terms=MEASURABLE,
        reason="Agreed",
    )
    await do(app.merge_expectations, expectation, duplicate, by=AMIRA, reason="Duplicate")
    await do(app.withdraw_expectation, dropped, by=LI, reason="Not needed")
    await do(
        app.give_provider_advice, expectation, by=SAM, importance="high", advice="Spares on site"
    )
    await do(app.decline_expectation, expectation, by=AMIRA, reason="Not yet")
    await do(app.commit_to_expectation, expectation, by=AMIRA, note="Spares agreed")
    obligations = [
        (
            await do(
                app.propose_obligation,
                contract,
                by=AMIRA,
                what=f"Access {n}",
                needed_from=LI,
                due_on="2025-03-15",
                depends_on=[expectation],
            )
        ).id
        for n in range(3)
    ]
    await do(app.accept_obligation, obligations[0], by=LI)
    await do(app.fulfil_obligation, obligations[0], by=SAM)
    await do(app.accept_obligation, obligations[1], by=LI)
    await do(app.breach_obligation, obligations[1], by=SAM, what_happened="Late")
    await do(app.decline_obligation, obligations[2], by=LI, reason="Policy")
    risk = (
        await do(
            app.disclose_risk,
            contract,
            by=SAM,
            kind="preconditioning",
            title="Firmware",
            description="Support ends",
            likelihood=3,
            impact=4,
            affected_expectations=[expectation],
            prepare_for="New scanners",
        )
    ).id
    await do(app.acknowledge_risk, risk, by=LI)
    await do(app.record_remedial_action, risk, by=SAM, action="Rolled back")
    await do(app.resolve_risk, risk, by=SAM, resolution="Replaced")
    lesson = (
        await do(
            app.record_lesson_learned,
            contract,
            by=SAM,
            lesson="Pilot first",
            risk_ids=[risk],
            expectation_ids=[expectation],
        )
    ).id
    await do(
        app.plan_preventive_action,
        lesson,
        by=AMIRA,
        action="Pilot stage",
        owner=SAM,
        due_on="2025-09-30",
    )
    measurement = (
        await do(
            app.record_measurement,
            expectation,
            by=SAM,
            period_start="2025-05-01",
            period_end="2025-05-31",
            value="91.5",
            source="Export",
        )
    ).created
    gap = (await do(app.acknowledge_gap, expectation, measurement, by=AMIRA, cause="Staff")).created
    await do(
        app.agree_recovery_plan,
        expectation,
        gap,
        by=AMIRA,
        agreed_with=LI,
        steps=[{"action": "Hire", "owner": SAM, "due_on": "2025-07-15"}],
        revised_target="92",
    )
    await do(app.complete_recovery_step, expectation, gap, 1, by=SAM)
    await baselined(do, contract, [expectation])
    await warned_of_deadlines(do, contract, obligations[1])
    await suspected(do, expectation)
    await do(
        app.record_assumption, contract, by=SAM, text="The scanners stay on firmware 4",
        why="The resolution target was costed on it",
    )  # fmt: skip
    return str(contract)


async def suspected(do: Meeting, expectation: Any) -> None:
    """The committed expectation is reworded (its target kept): its commitment is flagged
    suspect, and the account manager reviews it."""
    app = do.app
    text = "Scanner faults are fixed within the shift"
    await do(
        app.refine_expectation, expectation, by=AMIRA, text=text, terms=MEASURABLE,
        reason="Reworded",
    )  # fmt: skip
    await do(
        app.review_suspect, expectation, by=AMIRA, outcome="still_valid", reason="Same promise",
        flags=[flag_id(expectation, expectation, app.get_expectation(expectation).revision)],
    )  # fmt: skip


async def warned_of_deadlines(do: Meeting, contract: Any, obligation: Any) -> None:
    """The account manager sets the contract's deadline policy; the scheduler warns of an
    accepted obligation past three quarters of its time, then past its due date, by a clock
    the story moves."""
    await do(
        do.app.set_deadline_policy, contract, by=AMIRA, thresholds=[75, 50, 90],
        acknowledgement_window="P2D",
    )  # fmt: skip
    starts, due = datetime(2025, 3, 1, tzinfo=UTC), due_at_end_of(date(2025, 3, 15))
    timer = {
        "kind": "obligation", "item_id": obligation, "step": 0, "contract_id": contract,
        "starts_at": starts, "due_at": due, "owner": LI,
    }  # fmt: skip
    passed: list[int] = []
    for now in (instant(starts, due, 80), due + timedelta(seconds=1)):
        threshold = due_warning(starts, due, (50, 75, 90), passed, now)
        assert threshold is not None
        assert await raise_warning(do.runtime, timer, threshold)
        passed.append(threshold)
    assert passed == [75, MISSED]


async def baselined(do: Meeting, contract: Any, expectations: list[Any]) -> None:
    """A baseline proposed, signed by both required roles, then revoked."""
    app = do.app
    await do(app.join_contract, contract, by=LI, person_id=GRACE, name="Grace", role=ROLES[GRACE])
    listed = Listed(expectations=expectations)
    baseline = (await do(app.propose_baseline, contract, by=AMIRA, title="Scope", listed=listed)).id
    now = datetime.now(UTC)
    for signer in (GRACE, AMIRA):
        await do(
            app.sign_baseline, baseline, by=signer, meaning="approved", authenticated_at=now,
            now=now, max_age=timedelta(minutes=5),
        )  # fmt: skip
    await do(app.revoke_baseline, baseline, by=GRACE, reason="Renegotiated")


async def test_every_event_type_is_published_as_its_registered_contract() -> None:
    bus = InProcessBus()
    runtime = await build_runtime(
        "elicitation", Elicitation, Settings(database_url="memory"), bus.publisher()
    )
    contract_id = await every_kind_of_event(Meeting(runtime))
    while await runtime.relay.publish_next_batch():
        pass
    envelopes = [message.envelope() for message in bus.log(TOPIC)]
    await runtime.stop()

    published = {envelope.type for envelope in envelopes}
    registered = {spec.ce_type for spec in registry.for_service("elicitation")}
    assert published == registered
    assert len(registered) == 37
    for envelope in envelopes:
        spec = registry.lookup(envelope.type)
        jsonschema.validate(envelope.data, spec.json_schema())
        assert envelope.key == envelope.data["contract_id"] == contract_id
        assert envelope.actor_id and envelope.actor_role
        # The published data is the contract's and nothing else: no class paths, no pickles.
        assert "services." not in json.dumps(envelope.data)
        assert set(envelope.data) == set(spec.model.model_fields)


async def test_measured_values_and_dates_keep_their_exact_text_on_the_wire() -> None:
    bus = InProcessBus()
    runtime = await build_runtime(
        "elicitation", Elicitation, Settings(database_url="memory"), bus.publisher()
    )
    await every_kind_of_event(Meeting(runtime))
    while await runtime.relay.publish_next_batch():
        pass
    by_type = {m.envelope().type: m.envelope().data for m in bus.log(TOPIC)}
    await runtime.stop()

    measured = by_type["accord.elicitation.MeasurementRecorded.v1"]
    assert (measured["value"], measured["shortfall"], measured["met"]) == ("91.5", "3.5", False)
    assert measured["period_start"] == "2025-05-01"
    refined = by_type["accord.elicitation.ExpectationRefined.v1"]
    assert refined["terms"]["target"] == "95"
    assert refined["measurable"] is True and refined["missing_for_measurable"] == []
    plan = by_type["accord.elicitation.RecoveryPlanAgreed.v1"]
    assert plan["steps"] == [{"step": 1, "action": "Hire", "owner": SAM, "due_on": "2025-07-15"}]
    assert plan["revised_target"] == "92" and plan["revision"] == 3
