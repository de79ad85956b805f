"""A reminder fires in the trace of the obligation's proposal: an operator follows a reminder's
email or webhook back to the request that caused it. Before, reminders were scheduled in the
dispatcher's context and fired in the scheduler's, so every reminder led nowhere.

The scheduler's clock is moved, not waited for: the first reminder is days away, at the
default cadence. (tests/fault/test_notifications_reminders_restart.py covers a restart and the
end of reminders once the obligation is decided, on seconds-long reminders.)
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.applications import Starlette

from shared.telemetry import continue_trace
from tests.integration.notifications.contract_story import Elicitation, Notify, unique
from tests.support.waiting import eventually

DM = "client_decision_maker"
WHAT = "VPN access for the migration team"


async def test_a_reminder_fires_when_due_in_the_trace_of_its_obligations_proposal(
    elicitation: Elicitation, notify: Notify, notify_app: Starlette
) -> None:
    am, dm = unique("am"), unique("dm")
    contract = await elicitation.contract(am, f"{am}@contoso.example")
    await elicitation.join(contract, am, dm, DM)  # no email: reached in the app
    await notify.knows(contract, am, 2)
    trace = secrets.token_hex(16)
    with continue_trace(f"00-{trace}-{secrets.token_hex(8)}-01", "the account manager's request"):
        proposed = await elicitation.run(
            "propose_obligation", contract, by=am, what=WHAT, needed_from=dm,
            due_on=(date.today() + timedelta(days=10)).isoformat(),
        )  # fmt: skip
    obligation = str(proposed.id)
    pool = notify_app.state.pool
    scheduler = notify_app.state.workers.scheduler

    async def reminders() -> list[Any]:
        return list(
            await pool.fetch(
                "SELECT reminder_id, due_at, status, reason FROM reminders"
                " WHERE obligation_id = $1 ORDER BY due_at",
                obligation,
            )
        )

    async def reminded(person: str) -> list[dict[str, Any]]:
        answer = await notify.get(person, "/notifications", contract_id=contract)
        assert answer.status_code == 200, answer.text
        return [n for n in answer.json()["notifications"] if n["trigger"] == "obligation_reminder"]

    async def scheduled() -> bool:
        return bool(await reminders())

    await eventually(scheduled)
    first = (await reminders())[0]
    assert first["status"] == "scheduled" and first["due_at"] > datetime.now(UTC)
    assert await reminded(dm) == []  # not due yet

    # Time passes: a second after the first reminder's due instant.
    scheduler.clock = lambda: first["due_at"] + timedelta(seconds=1)

    async def fired() -> bool:
        return bool(await reminded(dm))

    await eventually(fired, timeout=30)
    [notice] = await reminded(dm)
    assert notice["subject"] == f"Reminder: {WHAT} is waiting for a decision"
    assert notice["data"]["obligation_id"] == obligation
    now = await reminders()
    assert now[0]["reminder_id"] == first["reminder_id"] and now[0]["status"] == "fired"
    # The next one is scheduled after it, and the scheduler runs on without firing it early.
    assert [r["status"] for r in now[1:]] and all(r["status"] == "scheduled" for r in now[1:])
    assert await scheduler.fire_due() == 0
    assert len(await reminded(dm)) == 1
    # The reminder, its notices and the next one are in the trace of the obligation's proposal.
    traces = await pool.fetch(
        "SELECT traceparent FROM notices WHERE contract_id = $1 AND trigger = $2"
        " UNION ALL SELECT traceparent FROM reminders WHERE obligation_id = $3",
        contract, "obligation_reminder", obligation,
    )  # fmt: skip
    assert len(traces) >= 3 and {r["traceparent"][3:35] for r in traces} == {trace}, traces
