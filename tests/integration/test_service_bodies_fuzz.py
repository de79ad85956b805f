"""Fuzz: random bodies to every POST route of every service, with valid tokens: no answer is a
500, every refusal is typed, and whatever a service accepted reaches every read model.

Bodies are JSON made of the commands' own field names and any JSON values (wrong types, control
characters, huge numbers and strings, edge dates), deep nesting, huge bodies and bytes that are
not JSON at all; ids in paths are real ones, random ones or not ids. Bounded for `make test`
(FUZZ_EXAMPLES, default 300; FUZZ_SEED to repeat a run); prints the seed, the examples sent and
the answers by status and code, so one run compares with the next. Every GET route gets any
query parameters too (half as many examples): a page's limit and cursor among them.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from starlette.routing import Route

from services.elicitation import api as elicitation_api
from services.notifications import api as notifications_api
from services.notifications.policies import Policy
from services.ranking import api as ranking_api
from shared.auth import mint_token
from shared.commands import elicitation, notifications, ranking
from tests.integration.services_in_one import SERVICES, Services, services_in_one

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 300)
SEED = int(os.environ.get("FUZZ_SEED") or random.randrange(2**32))
PEOPLE = ("am", "dm", "sponsor", "stranger")

# The modules that declare the services' commands, with their bodies.
DECLARED = (elicitation, ranking, notifications)
# Every field name a service command takes (so random bodies often reach the domain).
FIELDS = sorted(
    {
        name
        for module in (elicitation_api, ranking_api, notifications_api, *DECLARED)
        for model in vars(module).values()
        if isinstance(model, type)
        and issubclass(model, BaseModel)
        and model.__module__ == module.__name__
        for name in model.model_fields
    }
    | set(Policy.model_fields)
)

# Values a command might plausibly carry, and values at the edges of what anything can hold.
PLAUSIBLE = st.sampled_from([
    "borda", "schulze", "kemeny", "dots", "webhook", "email", "in_app", "daily_digest",
    "client_decision_maker", "client_sponsor", "provider_account_manager", "auditor",
    "obligation_proposed", "measurement_missed", "at_least", "within_range", "monthly",
    "preconditioning", "problem", "critical", "2026-12-15", "2027-01-31T10:00:00Z", "P2D",
    "99.5", "dm", "am", "https://8.8.8.8/hook", "http://[64:ff9b::a00:1]/hook",
    "0001-01-01", "9999-12-31", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
    "1e-20000", "1e400", "NaN", "-0", "P999999999D", "\x00", "a\x00b", "\ud800", "\u202e",
])  # fmt: skip
NUMBERS = st.integers() | st.floats() | st.sampled_from([2**31, 2**63, 10**40, -(2**31) - 1])
TEXT = st.text(max_size=40) | st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=20)
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT | PLAUSIBLE
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(TEXT | st.sampled_from(FIELDS), inner, max_size=4)
    ),
    max_leaves=12,
)
COMMAND_BODIES = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES | PLAUSIBLE, max_size=8)


# A body each route accepts in the right state: the fuzzer changes some of its fields, so that
# many bodies get past the schema into the services' own rules. "<kind>" stands for a real id.
TERMS = {"metric": "availability", "comparison": "at_least", "target": "99.5", "unit": "percent",
         "measurement_method": "monitoring"}  # fmt: skip
VALID: dict[str, dict[str, Any]] = {
    "/contracts": {"client_organisation": "N", "provider_organisation": "C", "title": "T",
                   "starts_on": "2026-12-01", "name": "A", "role": "provider_account_manager"},
    "/contracts/{contract_id}/participants": {"person_id": "dm2", "name": "D", "role": "client_decision_maker"},
    "/contracts/{contract_id}/participants/leave": {"person_id": "dm2", "reason": "moved on"},
    "/contracts/{contract_id}/questions": {"asked_of": "dm", "business_area": "stores", "text": "Why?"},
    "/contracts/{contract_id}/answers": {"question_id": "<questions>", "answer": "Because"},
    "/contracts/{contract_id}/expectations": {"text": "Tills work", "business_area": "stores"},
    "/expectations/{expectation_id}/refine": {"text": "Tills work", "terms": TERMS, "reason": "measurable"},
    "/expectations/{expectation_id}/withdraw": {"reason": "duplicate"},
    "/expectations/{expectation_id}/merge": {"merged_expectation_id": "<expectations>", "reason": "same"},
    "/expectations/{expectation_id}/advice": {"advice": "Top for stores", "importance": "critical"},
    "/expectations/{expectation_id}/commit": {"note": "we will"},
    "/expectations/{expectation_id}/decline": {"reason": "cannot"},
    "/contracts/{contract_id}/obligations": {"what": "Access", "needed_from": "dm", "due_on": "2026-12-15"},
    "/obligations/{obligation_id}/accept": {},
    "/obligations/{obligation_id}/decline": {"reason": "no"},
    "/obligations/{obligation_id}/fulfil": {"note": "done"},
    "/obligations/{obligation_id}/breach": {"what_happened": "late", "impact": "a week"},
    "/contracts/{contract_id}/risks": {"kind": "problem", "title": "Load", "description": "Peak",
                              "likelihood": 3, "impact": 4},
    "/risks/{risk_id}/acknowledge": {},
    "/risks/{risk_id}/remedial-actions": {"action": "more tills"},
    "/risks/{risk_id}/resolve": {"resolution": "resolved"},
    "/contracts/{contract_id}/lessons": {"lesson": "Test", "risk_ids": ["<risks>"]},
    "/lessons/{lesson_id}/preventive-actions": {"action": "drill", "owner": "am", "due_on": "2027-01-10"},
    "/expectations/{expectation_id}/measurements": {"period_start": "2027-01-01", "period_end": "2027-01-31",
                                        "value": "98", "source": "monitoring"},
    "/expectations/{expectation_id}/gaps": {"measurement_id": "<measurements>", "cause": "a switch"},
    "/expectations/{expectation_id}/gaps/{gap_id}/recovery-plan": {
        "steps": [{"action": "replace", "owner": "am", "due_on": "2027-02-01"}],
        "agreed_with": "dm", "revised_target": "98"},
    "/expectations/{expectation_id}/gaps/{gap_id}/steps": {"step": 1, "note": "replaced"},
    "/contracts/{contract_id}/prioritizations": {"method": "borda",
                                                 "closes_at": "2027-01-31T10:00:00Z"},
    "/prioritizations/{prioritization_id}/votes": {"ranking": ["<expectations>"]},
    "/prioritizations/{prioritization_id}/votes/withdraw": {},
    "/prioritizations/{prioritization_id}/close": {},
    "/notifications/{notice_id}/acknowledge": {},
    "/contracts/{contract_id}/policies": {"trigger": "obligation_proposed", "policy": {
        "recipients": ["needed_from"], "remind_every": "P2D", "remind_before_due": "P1D"}},
    "/contracts/{contract_id}/preferences": {"channel": "webhook",
                                             "webhook_url": "https://8.8.8.8/hook"},
    "/contracts/{contract_id}/deliveries/{notice_id}/requeue": {},
    "/contracts/{contract_id}/baselines": {"title": "Agreed for 2027"},
    "/baselines/{baseline_id}/signatures": {"meaning": "approved"},
    "/baselines/{baseline_id}/revoke": {"reason": "superseded"},
    "/suspects/{item_id}/review": {"outcome": "still_valid", "reason": "checked"},
    "/contracts/{contract_id}/deadline-policy": {"thresholds": [50, 75],
                                                 "acknowledgement_window": "P2D"},
    "/contracts/{contract_id}/assumptions": {"text": "Stores open at 8", "why": "rota"},
}  # fmt: skip


def encoded(body: Any) -> bytes:
    return json.dumps(body, allow_nan=True).encode()


RAW_BODIES = st.one_of(
    st.integers(1, 60_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, 60_000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.integers(100_000, 300_000).map(lambda size: encoded({"text": "x" * size})),
    st.binary(max_size=64),
    st.sampled_from([b"", b"null", b"[]", b'"text"', b"1e999999", b'{"text": "\\u0000"}']),
)
ANY_BODY = COMMAND_BODIES.map(encoded) | JSON_VALUES.map(encoded) | RAW_BODIES


@pytest.fixture(scope="module")
async def services(database_url: str) -> AsyncIterator[Services]:
    async with services_in_one(database_url) as running:
        yield running


async def real_ids(services: Services) -> dict[str, list[str]]:
    """A contract with people, a measurable expectation, an obligation, a risk, a lesson, a
    measurement gap, a prioritization and notices: the ids the fuzzer puts in paths."""
    opened = await services.ok("am", "/elicitation/contracts", {
        "client_organisation": "Northwind Retail", "provider_organisation": "Contoso Services",
        "title": "Managed IT operations", "starts_on": "2026-12-01", "name": "Ann Manager",
        "role": "provider_account_manager",
    })  # fmt: skip
    contract = opened["id"]
    on = f"/elicitation/contracts/{contract}"
    await services.ok("am", f"{on}/participants", {
        "person_id": "sponsor", "name": "Sam Sponsor", "role": "client_sponsor",
    })  # fmt: skip
    await services.ok("sponsor", f"{on}/participants", {
        "person_id": "dm", "name": "Dee Maker", "role": "client_decision_maker",
    })  # fmt: skip
    expectation = (await services.ok("dm", f"{on}/expectations", {
        "text": "Tills work all day", "business_area": "stores",
    }))["id"]  # fmt: skip
    await services.ok("am", f"/elicitation/expectations/{expectation}/refine", {
        "text": "Tills are available", "reason": "measurable", "terms": {
            "metric": "availability", "comparison": "at_least", "target": "99.5",
            "unit": "percent", "measurement_method": "monitoring",
        },
    })  # fmt: skip
    measured = await services.ok("am", f"/elicitation/expectations/{expectation}/measurements", {
        "period_start": "2026-12-01", "period_end": "2026-12-31", "value": "97", "source": "x",
    })  # fmt: skip
    gap = (await services.ok("am", f"/elicitation/expectations/{expectation}/gaps", {
        "measurement_id": measured["created"], "cause": "a failed switch",
    }))["created"]  # fmt: skip
    question = (await services.ok("am", f"{on}/questions", {
        "asked_of": "dm", "business_area": "stores", "text": "What stops a till?",
    }))["created"]  # fmt: skip
    other = (await services.ok("dm", f"{on}/expectations", {
        "text": "Reports by the 5th", "business_area": "finance",
    }))["id"]  # fmt: skip
    obligation = (await services.ok("am", f"{on}/obligations", {
        "what": "Remote access", "needed_from": "dm", "due_on": "2026-12-15",
    }))["id"]  # fmt: skip
    risk = (await services.ok("am", f"{on}/risks", {
        "kind": "problem", "title": "Peak load", "description": "December", "likelihood": 3,
        "impact": 4,
    }))["id"]  # fmt: skip
    lesson = (await services.ok("am", f"{on}/lessons", {
        "lesson": "Test the switches", "risk_ids": [risk],
    }))["id"]  # fmt: skip
    await services.caught_up()
    session = (await services.ok("am", f"/ranking/contracts/{contract}/prioritizations", {
        "method": "borda",
    }))["id"]  # fmt: skip
    await services.caught_up()
    deliveries = await services.http.get(
        f"/notifications/contracts/{contract}/deliveries", headers=services.auth("am")
    )
    notices = [n["notice_id"] for n in deliveries.json()["notices"]]
    return {
        "contracts": [contract], "expectations": [expectation, other], "obligations": [obligation],
        "questions": [question], "measurements": [measured["created"]],
        "risks": [risk], "lessons": [lesson], "gap_id": [gap], "prioritizations": [session],
        "notifications": notices, "deliveries": notices,
    }  # fmt: skip


def post_routes(services: Services) -> list[str]:
    """Every POST route of every service, as mounted (`/elicitation/contracts/{contract_id}/...`)."""
    return [
        f"/{process.value}{route.path}"
        for process in SERVICES
        for route in services.apps[process].routes
        if isinstance(route, Route) and "POST" in (route.methods or ())
    ]


NOT_IDS = st.sampled_from(["x", "%00", "%2E%2E", "1%3Fx=", "%0A", "null", str(UUID(int=0))[:-1]])


def fill(value: Any, ids: dict[str, list[str]]) -> Any:
    """The valid body with its "<kind>" placeholders replaced by real ids."""
    if isinstance(value, str) and value.startswith("<"):
        return ids[value.strip("<>")][0]
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


@st.composite
def requests(draw: st.DrawFn, routes: list[str], ids: dict[str, list[str]]) -> tuple[str, bytes]:
    """A route with each id filled in (a real one of its kind, a random UUID, or not an id),
    and a body: the route's valid one with some fields changed or dropped, or anything."""
    route = draw(st.sampled_from(routes))
    path = draw(filled(route, ids))
    valid = fill(VALID["/" + route.split("/", 2)[2]], ids)  # the route inside its service
    keys = st.sampled_from(sorted(valid)) if valid else st.sampled_from(FIELDS)
    values = TEXT | PLAUSIBLE | NUMBERS | JSON_VALUES
    changed = draw(
        st.dictionaries(keys | keys | keys | st.sampled_from(FIELDS), values, max_size=2)
    )
    dropped = draw(st.sets(st.sampled_from(sorted(valid)))) if valid else set()
    mutated = {k: v for k, v in {**valid, **changed}.items() if k not in dropped}
    body = draw(st.just(encoded(mutated)) | st.just(encoded(mutated)) | ANY_BODY)
    return path, body


@st.composite
def filled(draw: st.DrawFn, route: str, ids: dict[str, list[str]]) -> str:
    """The route with each id filled in: a real one of its kind, a random UUID, or not an id."""
    segments = route.split("/")
    for at, segment in enumerate(segments):
        if segment.startswith("{"):
            name = segment.strip("{}")
            kind = segments[at - 1] if name != "gap_id" else name
            known = ids.get(kind) or ids.get(
                {"prioritization_id": "prioritizations"}.get(name, ""), []
            )
            choice = st.sampled_from(known) if known else st.uuids().map(str)
            mostly_real = st.one_of(*[choice] * 8, st.uuids().map(str), NOT_IDS)
            segments[at] = draw(mostly_real)
    return "/".join(segments)


# The services run in another thread while hypothesis draws a body, and their libraries draw
# from the global `random` (psycopg_pool jitters each new connection's lifetime with it, the
# event store's retries their pauses): hypothesis cannot tell that from a strategy using it.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
async def test_no_body_to_any_service_command_is_an_internal_error(services: Services) -> None:
    ids = await real_ids(services)
    routes = post_routes(services)
    tokens = {person: mint_token(services.settings, person) for person in PEOPLE}
    answers: Counter[str] = Counter()
    faults: list[str] = []
    untyped: list[str] = []
    base = str(services.http.base_url)

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )  # fmt: skip
    @given(request=requests(routes, ids), person=st.sampled_from(PEOPLE))
    def send(request: tuple[str, bytes], person: str) -> None:
        path, body = request
        headers = {"authorization": f"Bearer {tokens[person]}", "content-type": "application/json"}
        response = http.post(path, content=body, headers=headers)
        try:
            answer = response.json()
            code = answer.get("code") if response.status_code != 200 else "ok"
        except (ValueError, AttributeError):
            code = None
        answers[f"{response.status_code} {code}"] += 1
        if response.status_code >= 500:
            faults.append(
                f"{response.status_code} POST {path} {body[:200]!r}: {response.text[:300]}"
            )
        elif not code:
            untyped.append(f"{response.status_code} POST {path}: {response.text[:100]}")

    with httpx.Client(base_url=base, timeout=30) as http:
        await asyncio.to_thread(send)
    print(f"\nservice bodies fuzz: seed {SEED} (FUZZ_SEED), {sum(answers.values())} examples sent")
    for answer, count in sorted(answers.items()):
        print(f"  {count:5d}  {answer}")
    print(f"  internal errors: {len(faults)} (goal 0); answers without a code: {len(untyped)}")
    assert faults == []
    # A path with a line break in it matches no Mount of the composed app (Starlette's `.*` stops
    # at a newline), so the composition's own router answers a plain 404 before any service sees
    # it; every answer of a service itself is typed.
    assert all(u.startswith("404 POST") and "%0A" in u for u in untyped), untyped
    await services.caught_up()
    assert await services.dead_letters() == [] and services.failing() == []


# The query parameters the services' reads take, and some they do not.
QUERY_NAMES = st.sampled_from([
    "limit", "after_at", "after_key", "contract_id", "unread_only", "status", "x",
])  # fmt: skip
QUERY_VALUES = TEXT | NUMBERS.map(str) | st.datetimes().map(lambda d: d.isoformat()) | st.sampled_from([
    "0", "1", "500", "501", "-1", "true", "2026-12-05T08:52:33+00:00", "2026-12-05T08:52:33",
    "dead_lettered", "delivered", str(UUID(int=1)),
])  # fmt: skip


@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
async def test_no_query_to_any_service_read_is_an_internal_error(services: Services) -> None:
    """Every GET route of every service, ids in its path as above, any query parameters (a
    page's limit and cursor among them): no 500, every refusal typed."""
    ids = await real_ids(services)
    routes = [
        f"/{process.value}{route.path}"
        for process in SERVICES
        for route in services.apps[process].routes
        if isinstance(route, Route) and "GET" in (route.methods or ())
        and not route.path.endswith(("healthz", "readyz"))
    ]  # fmt: skip
    tokens = {person: mint_token(services.settings, person) for person in PEOPLE}
    answers: Counter[str] = Counter()
    faults: list[str] = []

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES // 2, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )  # fmt: skip
    @given(
        path=st.sampled_from(routes).flatmap(lambda route: filled(route, ids)),
        query=st.dictionaries(QUERY_NAMES, QUERY_VALUES, max_size=4),
        person=st.sampled_from(PEOPLE),
    )
    def ask(path: str, query: dict[str, str], person: str) -> None:
        headers = {"authorization": f"Bearer {tokens[person]}"}
        response = http.get(path, params=query, headers=headers)
        answer = response.json() if "json" in response.headers.get("content-type", "") else {}
        code = "ok" if response.status_code == 200 else answer.get("code")
        answers[f"{response.status_code} {code}"] += 1
        if response.status_code >= 500 or not code:
            faults.append(f"{response.status_code} GET {path} {query}: {response.text[:300]}")

    with httpx.Client(base_url=str(services.http.base_url), timeout=30) as http:
        await asyncio.to_thread(ask)
    print(f"\nservice reads fuzz: seed {SEED} (FUZZ_SEED), {sum(answers.values())} examples")
    for answer, count in sorted(answers.items()):
        print(f"  {count:5d}  {answer}")
    # A line break in a path matches no Mount of the composed app: its plain 404 is the app's.
    assert [f for f in faults if not (f.startswith("404 GET") and "%0A" in f)] == []


def test_every_declared_command_has_a_body_to_start_from() -> None:
    from shared.commands.catalogue import COMMANDS

    assert {c.path for c in COMMANDS} <= set(VALID), "add the new command's body to VALID"
