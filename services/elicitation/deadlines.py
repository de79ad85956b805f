"""Elicitation's dated promises and their warnings: a view of the service's own events keeps a
timer for each obligation (accepted, due on its date), recovery step (due on its date),
committed expectation with a deadline, and disclosed risk awaiting acknowledgement (within the
contract's window); the kernel's worker raises DeadlineApproaching and DeadlineMissed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from services.elicitation.expectation import ExpectationStatus
from services.elicitation.obligation import ObligationStatus
from shared.deadlines.timers import SCHEMA, DeadlinePolicy, Timers
from shared.deadlines.timing import MISSED, DeadlineKind, due_at_end_of
from shared.deadlines.worker import Clock, warn_when_due
from shared.envelope import Envelope
from shared.pending_writes import Statements
from shared.projection import Batching, in_arrival_order
from shared.runtime import ServiceRuntime
from shared.service_app import View
from shared.settings import Settings

TOPICS = ("accord.elicitation.v1",)
__all__ = ["SCHEMA", "TOPICS", "DeadlineView", "policy_defaults"]


# The acknowledgement window travels as an ISO 8601 duration.
_DURATION = TypeAdapter(timedelta)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class DeadlineView:
    """The timers of one elicitation process, and its worker, with `defaults` for contracts
    that set no policy and `clock` for the worker (tests move it)."""

    def __init__(self, defaults: DeadlinePolicy, clock: Clock) -> None:
        self.timers = Timers(defaults)
        self.clock = clock

    async def apply(self, conn: Statements, envelope: Envelope) -> None:
        """Start, stop or move a timer for each event that makes, keeps or drops a promise."""
        name, data, at = envelope.spec.name, envelope.data, envelope.time
        timers = self.timers
        contract_id = UUID(str(data["contract_id"]))
        if name == "ObligationProposed":
            obligation = UUID(str(data["obligation_id"]))
            await timers.track(
                conn, kind=DeadlineKind.OBLIGATION, item_id=obligation, contract_id=contract_id,
                aggregate_id=obligation, owner=str(data["needed_from"]),
                due_at=due_at_end_of(_day(data["due_on"])),
            )  # fmt: skip
        elif name == "ObligationAccepted":
            await timers.start(conn, UUID(str(data["obligation_id"])), at)
        elif name in ("ObligationFulfilled", "ObligationDeclined", "ObligationBreached"):
            why = name.removeprefix("Obligation").lower()
            await timers.stop(conn, UUID(str(data["obligation_id"])), why)
        elif name == "ExpectationRefined":
            expectation = UUID(str(data["expectation_id"]))
            deadline = data["terms"].get("deadline")
            if deadline is None:
                await timers.forget(conn, expectation)
            else:  # new terms: the promise waits for the provider to commit to them
                await timers.track(
                    conn, kind=DeadlineKind.EXPECTATION, item_id=expectation,
                    contract_id=contract_id, aggregate_id=expectation, owner="",
                    due_at=due_at_end_of(_day(deadline)),
                )  # fmt: skip
        elif name == "ExpectationCommitted":
            expectation = UUID(str(data["expectation_id"]))
            await timers.start(conn, expectation, at, owner=str(data["committed_by"]))
        elif name in ("ExpectationDeclined", "ExpectationWithdrawn"):
            await timers.stop(conn, UUID(str(data["expectation_id"])), name.lower())
        elif name == "ExpectationsMerged":
            await timers.stop(conn, UUID(str(data["merged_expectation_id"])), "merged")
        elif name == "MeasurementRecorded" and data["met"]:
            await timers.stop(conn, UUID(str(data["expectation_id"])), "met")
        elif name == "RecoveryPlanAgreed":
            for step in data["steps"]:
                await timers.track(
                    conn, kind=DeadlineKind.RECOVERY_STEP, item_id=UUID(str(data["gap_id"])),
                    step=int(step["step"]), contract_id=contract_id,
                    aggregate_id=UUID(str(data["expectation_id"])), owner=str(step["owner"]),
                    due_at=due_at_end_of(_day(step["due_on"])), starts_at=at,
                )  # fmt: skip
        elif name == "RecoveryStepCompleted":
            await timers.stop(conn, UUID(str(data["gap_id"])), "completed", int(data["step"]))
        elif name == "RiskDisclosed":
            risk = UUID(str(data["risk_id"]))
            policy = await timers.policy(conn, contract_id)
            await timers.track(
                conn, kind=DeadlineKind.RISK_ACKNOWLEDGEMENT, item_id=risk,
                contract_id=contract_id, aggregate_id=risk, owner=str(data["disclosed_by"]),
                due_at=at + policy.acknowledgement_window, starts_at=at,
            )  # fmt: skip
        elif name in ("RiskAcknowledged", "RiskResolved"):
            why = name.removeprefix("Risk").lower()
            await timers.stop(conn, UUID(str(data["risk_id"])), why)
        elif name in ("DeadlineApproaching", "DeadlineMissed"):
            threshold = int(data.get("threshold") or MISSED)
            await timers.passed(conn, UUID(str(data["item_id"])), data["step"] or 0, threshold)
        elif name == "DeadlinePolicySet":
            window = _DURATION.validate_python(data["acknowledgement_window"])
            await timers.set_policy(conn, contract_id, data["thresholds"], window)

    async def still_open(self, runtime: ServiceRuntime[Any], row: asyncpg.Record) -> bool:
        """Whether the promise is still open, by its aggregate as stored now."""
        app = runtime.app
        kind, aggregate_id = DeadlineKind(row["kind"]), row["aggregate_id"]
        if kind is DeadlineKind.OBLIGATION:
            obligation = await runtime.executor.run(app.get_obligation, aggregate_id)
            return bool(obligation.status is ObligationStatus.ACCEPTED)
        if kind is DeadlineKind.RISK_ACKNOWLEDGEMENT:
            risk = await runtime.executor.run(app.get_risk, aggregate_id)
            return not (risk.acknowledged or risk.resolved)
        expectation = await runtime.executor.run(app.get_expectation, aggregate_id)
        if kind is DeadlineKind.RECOVERY_STEP:
            return not expectation.recovery_step(row["item_id"], row["step"]).completed
        deadline = expectation.terms.deadline
        return bool(
            expectation.status is ExpectationStatus.COMMITTED
            and deadline is not None
            and due_at_end_of(deadline) == row["due_at"]
        )

    @property
    def view(self) -> View:
        return View(
            "deadlines", TOPICS, SCHEMA, self.apply, Batching(self.apply, in_arrival_order),
            for_scheduler=True,
        )  # fmt: skip

    async def worker(self, runtime: ServiceRuntime[Any], pool: asyncpg.Pool) -> None:
        """Until cancelled: raise each of the service's warnings when it falls due."""
        await warn_when_due(runtime, pool, self.timers, self.still_open, self.clock)


def policy_defaults(settings: Settings) -> DeadlinePolicy:
    """The policy of a contract that set none, from the process's settings."""
    return DeadlinePolicy(
        tuple(settings.deadline_thresholds),
        timedelta(hours=settings.risk_acknowledgement_hours),
    )
