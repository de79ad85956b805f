"""Property: after any sequence of commands on an expectation, the gateway's read model shows
what the aggregate holds (status, revision, wording, the revision its decision stands on),
because it takes the state the events carry rather than working it out again.

Hypothesis draws sequences of refinements, commitments, declines, measurements, recovery plans
with and without a revised target, and a withdrawal, sent over elicitation's HTTP API; refused
ones are part of the sequence too. Examples: PROPERTY_EXAMPLES (default 15).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.processes import Process
from services.gateway.projections.schema import SCHEMA_NAME
from shared.auth import mint_token
from tests.integration.services_in_one import Services, services_in_one

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES") or 15)
TERMS = {"metric": "availability", "comparison": "at_least", "target": "99", "unit": "percent",
         "measurement_method": "monitoring"}  # fmt: skip
STEPS = st.lists(
    st.sampled_from(
        ["refine", "commit", "decline", "measure_missed", "plan", "plan_revised", "withdraw"]
    ),
    max_size=8,
)


@pytest.fixture(scope="module")
async def services(database_url: str) -> AsyncIterator[Services]:
    async with services_in_one(database_url) as running:
        yield running


async def test_the_read_model_shows_the_aggregates_state_after_any_sequence(
    services: Services,
) -> None:
    loop = asyncio.get_running_loop()
    tokens = {p: mint_token(services.settings, p) for p in ("am", "dm")}

    def settle() -> None:
        asyncio.run_coroutine_threadsafe(services.caught_up(), loop).result()

    def read(query: str, *args: Any) -> list[Any]:
        pool = services.apps[Process.projector].state.pool
        return asyncio.run_coroutine_threadsafe(pool.fetch(query, *args), loop).result()

    def send(http: httpx.Client, person: str, path: str, body: dict[str, Any]) -> Any:
        response = http.post(path, json=body, headers={"authorization": f"Bearer {tokens[person]}"})
        assert response.status_code < 500, (path, body, response.text)
        return response.json() if response.status_code == 200 else None

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(steps=STEPS)
    def sequence(steps: list[str]) -> None:
        with httpx.Client(base_url=str(services.http.base_url), timeout=30) as http:
            opened = send(http, "am", "/elicitation/contracts", {
                "client_organisation": "Northwind", "provider_organisation": "Contoso",
                "title": "Managed IT", "starts_on": "2026-12-01", "name": "Ann",
                "role": "provider_account_manager",
            })  # fmt: skip
            on = f"/elicitation/contracts/{opened['id']}"
            send(http, "am", f"{on}/participants",
                 {"person_id": "dm", "name": "Dee", "role": "client_decision_maker"})  # fmt: skip
            proposed = send(http, "dm", f"{on}/expectations",
                            {"text": "Tills work", "business_area": "stores"})  # fmt: skip
            at = f"/elicitation/expectations/{proposed['id']}"
            send(http, "am", f"{at}/refine", {"text": "Tills", "terms": TERMS, "reason": "r"})
            target = 99
            for n, step in enumerate(steps):
                if step == "refine":
                    target -= 1
                    send(http, "am", f"{at}/refine", {"text": f"Tills {n}", "reason": "r",
                                                      "terms": {**TERMS, "target": str(target)}})  # fmt: skip
                elif step == "commit":
                    send(http, "am", f"{at}/commit", {"note": "we will"})
                elif step == "decline":
                    send(http, "am", f"{at}/decline", {"reason": "cannot"})
                elif step == "measure_missed":
                    send(http, "am", f"{at}/measurements", {
                        "period_start": f"2027-{n % 12 + 1:02d}-01",
                        "period_end": f"2027-{n % 12 + 1:02d}-28", "value": "50",
                        "source": "monitoring",
                    })  # fmt: skip
                elif step in ("plan", "plan_revised"):
                    shown = http.get(at, headers={"authorization": f"Bearer {tokens['am']}"})
                    assert shown.status_code == 200
                    gaps = read(f'SELECT gap_id FROM "{SCHEMA_NAME}".gaps'
                                " WHERE expectation_id = $1", proposed["id"])  # fmt: skip
                    measured = read(
                        f'SELECT measurement_id FROM "{SCHEMA_NAME}".measurements'
                        " WHERE expectation_id = $1 ORDER BY period_start DESC", proposed["id"],
                    ) if not gaps else []  # fmt: skip
                    gap = gaps[0]["gap_id"] if gaps else None
                    if gap is None and measured:
                        acknowledged = send(http, "am", f"{at}/gaps", {
                            "measurement_id": str(measured[0]["measurement_id"]), "cause": "x",
                        })  # fmt: skip
                        gap = acknowledged and acknowledged.get("created")
                    if gap:
                        body: dict[str, Any] = {
                            "steps": [{"action": "fix", "owner": "am", "due_on": "2027-06-01"}],
                            "agreed_with": "dm",
                        }
                        if step == "plan_revised":
                            body["revised_target"] = "90"
                        send(http, "am", f"{at}/gaps/{gap}/recovery-plan", body)
                elif step == "withdraw":
                    send(http, "dm", f"{at}/withdraw", {"reason": "no longer needed"})
                settle()
            held = http.get(at, headers={"authorization": f"Bearer {tokens['am']}"}).json()
        settle()
        [row] = read(
            f'SELECT status, revision, text, decided_revision FROM "{SCHEMA_NAME}".expectations'
            " WHERE expectation_id = $1", proposed["id"],
        )  # fmt: skip
        assert (row["status"], row["revision"], row["text"]) == (
            held["status"], held["revision"], held["text"],
        ), steps  # fmt: skip
        if held.get("decided_revision") is not None or row["decided_revision"] is not None:
            assert row["decided_revision"] == held.get("decided_revision"), steps

    await asyncio.to_thread(sequence)
