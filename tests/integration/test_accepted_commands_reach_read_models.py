"""Property: whatever a service accepts, every read model can hold.

Hypothesis draws the values of a contract's commands (any text, any number, any date, any
instant with any offset, any duration), at the edges of what the services accept and past
them, and sends them over the services' HTTP APIs. Each command is accepted or refused with a
typed 4xx; then every projection (the gateway's read models, ranking's and notifications' views
of the contracts) has applied every event stored, none was dead-lettered, and what was accepted
is there to read. Examples: PROPERTY_EXAMPLES (default 15).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accord.processes import Process
from services.gateway.projections.schema import SCHEMA_NAME
from services.notifications import reads as notification_reads
from services.ranking import contract_view as ranking_view
from shared.auth import mint_token
from tests.integration.services_in_one import Services, services_in_one

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES") or 15)

TEXT = st.text(max_size=30) | st.sampled_from(
    ["Tills\x00work", "tab\tand\nbreak", "\u202eevil", "收银机 🧾", " padded ", "x" * 2000, "\x7f"]
)
NUMBER = (
    st.decimals(allow_nan=True, allow_infinity=True).map(str)
    | st.floats().map(repr)
    | st.integers().map(str)
    | st.sampled_from(["1e-20000", "999999999999999.999999", "1e15", "-0.000001", "1E+14"])
)
DAY = st.dates().map(date.isoformat)
OFFSET = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
INSTANT = st.builds(lambda at, tz: at.replace(tzinfo=tz).isoformat(), st.datetimes(), OFFSET)
# The contract's start: usually one the other dates follow, so that the domain's own rules
# (no measurement before the contract starts...) let the values under test through.
STARTS_ON = st.one_of(*[st.just("2026-12-01")] * 4, DAY)
SECONDS = st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False)


@pytest.fixture(scope="module")
async def services(database_url: str) -> AsyncIterator[Services]:
    async with services_in_one(database_url) as running:
        yield running


class Contract:
    """One contract's commands over HTTP, as its account manager (am) and decision maker (dm)."""

    def __init__(self, http: httpx.Client, services: Services) -> None:
        self.http = http
        self.tokens = {p: mint_token(services.settings, p) for p in ("am", "dm")}
        self.accepted: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def send(self, person: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The answer of an accepted command, None for a refusal (which must be typed)."""
        headers = {"authorization": f"Bearer {self.tokens[person]}"}
        response = self.http.post(path, json=body, headers=headers)
        assert response.status_code < 500, (path, body, response.text)
        answer: dict[str, Any] = response.json()
        if response.status_code != 200:
            assert 400 <= response.status_code < 500 and answer["code"], answer
            return None
        self.accepted.append((path, body, answer))
        return answer


async def test_every_command_a_service_accepts_reaches_every_read_model(
    services: Services,
) -> None:
    loop = asyncio.get_running_loop()

    def settle() -> None:
        asyncio.run_coroutine_threadsafe(services.caught_up(), loop).result()

    def dead_letters() -> list[dict[str, Any]]:
        return asyncio.run_coroutine_threadsafe(services.dead_letters(), loop).result()

    def read(query: str, *args: Any) -> list[Any]:
        pool = services.apps[Process.projector].state.pool
        return asyncio.run_coroutine_threadsafe(pool.fetch(query, *args), loop).result()

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )  # fmt: skip
    @example(  # what the probe of issue 12 saw stored, answered, then dead-lettered
        title="Ops",
        name="Ann",
        starts_on="2026-12-01",
        text="Tills\x00work",
        area="st\x00res",
        advice="top\x00",
        metric="availability",
        target="1e-20000",
        deadline="0001-01-01",
        value="1e-20000",
        due_on="0001-01-01",
        what="access",
        closes_at="0001-01-01T00:00:00+14:00",
        remind_every=1e12,
        remind_before_due=-1,
        email="dee\x00@northwind.example",
    )
    @example(  # the same values, each just inside what is accepted
        title="Ops",
        name="Ann",
        starts_on="2026-12-01",
        text="Tills\twork\n",
        area="stores ✓",
        advice="top\r\n",
        metric="availability",
        target="999999999999999.999999",
        deadline="9998-12-31",
        value="-0.000001",
        due_on="9998-12-31",
        what="access",
        closes_at="9998-12-31T09:59:59-14:00",
        remind_every=315_000_000,
        remind_before_due=0.000001,
        email="dee@northwind.example",
    )
    @given(
        title=TEXT, name=TEXT, starts_on=STARTS_ON, text=TEXT, area=TEXT, advice=TEXT, metric=TEXT,
        target=NUMBER, deadline=DAY, value=NUMBER, due_on=DAY, what=TEXT, closes_at=INSTANT,
        remind_every=SECONDS, remind_before_due=SECONDS, email=TEXT,
    )  # fmt: skip
    def commands(
        title: str, name: str, starts_on: str, text: str, area: str, advice: str, metric: str,
        target: str, deadline: str, value: str, due_on: str, what: str, closes_at: str,
        remind_every: float, remind_before_due: float, email: str,
    ) -> None:  # fmt: skip
        c = Contract(http, services)
        dead_before = len(dead_letters())
        opened = c.send("am", "/elicitation/contracts", {
            "client_organisation": "Northwind", "provider_organisation": "Contoso",
            "title": title, "starts_on": starts_on, "name": name,
            "role": "provider_account_manager",
        })  # fmt: skip
        opened = opened or c.send("am", "/elicitation/contracts", {
            "client_organisation": "Northwind", "provider_organisation": "Contoso",
            "title": "Managed IT", "starts_on": "2026-12-01", "name": "Ann",
            "role": "provider_account_manager",
        })  # fmt: skip
        assert opened is not None
        contract = opened["id"]
        on = f"/elicitation/contracts/{contract}"
        c.send("am", f"{on}/participants", {
            "person_id": "dm", "name": "Dee", "role": "client_decision_maker",
        })  # fmt: skip
        proposed = c.send("dm", f"{on}/expectations", {"text": text, "business_area": area})
        expectation = (proposed or c.send("dm", f"{on}/expectations", {
            "text": "Tills work", "business_area": "stores",
        }) or {}).get("id")  # fmt: skip
        assert expectation, c.accepted
        terms = {"metric": metric, "comparison": "at_least", "target": target, "unit": "percent",
                 "measurement_method": "monitoring", "deadline": deadline}  # fmt: skip
        at = f"/elicitation/expectations/{expectation}"
        if not c.send("am", f"{at}/refine", {"text": "Tills", "terms": terms, "reason": "r"}):
            c.send("am", f"{at}/refine", {"text": "Tills", "reason": "r", "terms": {
                **terms, "metric": "availability", "target": "99", "deadline": None,
            }})  # fmt: skip
        c.send("am", f"{at}/advice", {"advice": advice})
        c.send("am", f"{at}/measurements", {
            "period_start": "2027-01-01", "period_end": "2027-01-31", "value": value,
            "source": "monitoring",
        })  # fmt: skip
        c.send("am", f"{on}/obligations", {"what": what, "needed_from": "dm", "due_on": due_on})
        c.send("am", f"{on}/risks", {
            "kind": "problem", "title": text, "description": advice, "likelihood": 2,
            "impact": 3, "affected_expectations": [expectation],
        })  # fmt: skip
        settle()  # ranking learns of the measurable expectation
        c.send("am", f"/ranking/contracts/{contract}/prioritizations", {
            "method": "borda", "closes_at": closes_at,
        })  # fmt: skip
        c.send("am", f"/notifications/contracts/{contract}/policies", {
            "trigger": "obligation_proposed", "policy": {
                "recipients": ["needed_from"], "remind_every": remind_every,
                "remind_before_due": remind_before_due,
            },
        })  # fmt: skip
        c.send("dm", f"/notifications/contracts/{contract}/preferences", {
            "channel": "email", "email": email,
        })  # fmt: skip
        settle()
        assert dead_letters()[dead_before:] == []
        assert services.failing() == []
        # What was accepted is there to read, in each read model.
        [row] = read(f'SELECT * FROM "{SCHEMA_NAME}".expectations WHERE expectation_id = $1',
                     expectation)  # fmt: skip
        if proposed is not None:
            assert row["business_area"] == area.strip()
        for path, body, answer in c.accepted:
            if path.endswith("/measurements"):
                [measured] = read(
                    f'SELECT value FROM "{SCHEMA_NAME}".measurements WHERE measurement_id = $1',
                    answer["created"],
                )
                assert measured["value"] == Decimal(body["value"])
            if path.endswith("/prioritizations"):
                [session] = read(
                    f'SELECT closes_at FROM "{SCHEMA_NAME}".prioritizations'
                    " WHERE session_id = $1", answer["id"],
                )  # fmt: skip
                opened_at = datetime.fromisoformat(body["closes_at"]).astimezone(UTC)
                assert session["closes_at"] == opened_at
        ranking_pool = services.apps[Process.ranking].state.pool
        notify_pool = services.apps[Process.notifications].state.pool
        for known in (
            ranking_view.role_of(ranking_pool, contract, "dm"),
            notification_reads.role_of(notify_pool, contract, "dm"),
        ):
            assert asyncio.run_coroutine_threadsafe(known, loop).result() == "client_decision_maker"

    with httpx.Client(base_url=str(services.http.base_url), timeout=30) as http:
        await asyncio.to_thread(commands)
