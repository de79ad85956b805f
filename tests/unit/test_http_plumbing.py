"""Command endpoints: bearer auth, JSON bodies, and every refusal as {code, message, details}."""

import json
import logging
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.testclient import TestClient

from shared.auth import Actor, TokenVerifier, mint_token
from shared.errors import AccordError
from shared.http import command, query
from shared.settings import Settings

SETTINGS = Settings(jwt_secret="http-plumbing-secret-at-least-32-bytes")


class ProposeNote(BaseModel):
    text: str
    expected_version: int | None = None


class NoteIsStale(AccordError):
    code = "CONFLICT"


class UnknownNote(AccordError):
    code = "UNKNOWN_NOTE"


async def propose(actor: Actor, body: ProposeNote, request: Request) -> dict[str, Any]:
    if body.text == "stale":
        raise NoteIsStale("the note changed since version 1", current_version=2)
    if body.text == "missing":
        raise UnknownNote("no such note")
    return {"by": actor.subject, "text": body.text}


def client() -> TestClient:
    app = Starlette(routes=[command("/notes", ProposeNote, propose)])
    app.state.token_verifier = TokenVerifier(SETTINGS)
    return TestClient(app)


def auth(subject: str = "alice") -> dict[str, str]:
    return {"authorization": f"Bearer {mint_token(SETTINGS, subject)}"}


def test_a_command_with_a_good_token_and_body_answers_its_result() -> None:
    response = client().post("/notes", json={"text": "hello"}, headers=auth())
    assert response.status_code == 200
    assert response.json() == {"by": "alice", "text": "hello"}


def test_a_command_without_a_token_is_refused_as_unauthenticated() -> None:
    response = client().post("/notes", json={"text": "hello"})
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"
    assert response.json()["details"] == {"reason": "missing_token"}


def test_a_body_that_is_not_json_is_a_bad_request() -> None:
    response = client().post("/notes", content=b"{nope", headers=auth())
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_JSON"


def test_a_body_missing_a_field_names_the_field() -> None:
    response = client().post("/notes", json={"expected_version": "x"}, headers=auth())
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "INVALID_INPUT"
    assert {p["field"] for p in body["details"]["problems"]} == {"text", "expected_version"}


def test_domain_errors_map_to_their_codes_and_statuses() -> None:
    stale = client().post("/notes", json={"text": "stale"}, headers=auth())
    assert (stale.status_code, stale.json()["code"]) == (409, "CONFLICT")
    assert stale.json()["details"] == {"current_version": 2}
    missing = client().post("/notes", json={"text": "missing"}, headers=auth())
    assert (missing.status_code, missing.json()["code"]) == (404, "UNKNOWN_NOTE")


# ---- what no caller can make into an internal error ------------------------------------------


async def show(actor: Actor, request: Request) -> dict[str, Any]:
    """A query whose answer holds values the standard JSON encoder does not know."""
    note_id = request.path_params["note_id"]
    assert isinstance(note_id, UUID)
    return {"id": note_id, "target": Decimal("99.50"), "due_on": date(2027, 1, 31)}


def limited(max_body_bytes: int = 2048) -> TestClient:
    app = Starlette(
        routes=[
            command("/notes/{note_id}/edit", ProposeNote, propose),
            query("/notes/{note_id}", show),
        ]
    )
    app.state.token_verifier = TokenVerifier(SETTINGS)
    app.state.max_body_bytes = max_body_bytes
    return TestClient(app)


NOTE = f"/notes/{UUID(int=1)}"


def test_a_body_over_the_limit_is_refused_by_its_declared_length_before_it_is_read() -> None:
    response = limited().post(f"{NOTE}/edit", content=b"x" * 2049, headers=auth())
    assert response.status_code == 413
    assert response.json()["code"] == "BODY_TOO_LARGE"
    assert response.json()["details"] == {"limit": 2048}


def test_a_body_over_the_limit_without_a_length_is_refused_once_it_passes_the_limit() -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    response = limited().post(f"{NOTE}/edit", content=chunks(), headers=auth())
    assert (response.status_code, response.json()["code"]) == (413, "BODY_TOO_LARGE")


def test_a_body_at_the_limit_is_read() -> None:
    body = json.dumps({"text": "x" * (2048 - len('{"text": ""}'))}).encode()
    assert len(body) == 2048
    response = limited().post(f"{NOTE}/edit", content=body, headers=auth())
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("depth", [300, 100_000])
def test_a_deeply_nested_body_is_bad_json_not_an_internal_error(depth: int) -> None:
    body = b"[" * depth + b"]" * depth
    response = limited(max_body_bytes=1_000_000).post(f"{NOTE}/edit", content=body, headers=auth())
    assert (response.status_code, response.json()["code"]) == (400, "BAD_JSON")
    assert "recursion limit" in response.json()["message"]


@pytest.mark.parametrize("body", [b'{"text": NaN}', b'{"text": "\\ud800"}', b"\xff\xfe"])
def test_json_no_store_could_hold_is_bad_json(body: bytes) -> None:
    response = limited().post(f"{NOTE}/edit", content=body, headers=auth())
    assert (response.status_code, response.json()["code"]) == (400, "BAD_JSON")


@pytest.mark.parametrize("note_id", ["not-a-uuid", "1%00", "..%2E"])
def test_an_id_in_the_path_that_is_not_a_uuid_is_invalid_input(note_id: str) -> None:
    for response in (
        limited().post(f"/notes/{note_id}/edit", json={"text": "x"}, headers=auth()),
        limited().get(f"/notes/{note_id}", headers=auth()),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "INVALID_INPUT"
        assert response.json()["message"].startswith("note_id must be a UUID")


def test_an_answer_holding_decimals_and_dates_is_json() -> None:
    response = limited().get(NOTE, headers=auth())
    assert response.status_code == 200
    assert response.json() == {"id": str(UUID(int=1)), "target": "99.50", "due_on": "2027-01-31"}


def test_a_refusal_is_logged_as_one_line_at_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="shared.http")
    headers = {**auth(), "x-correlation-id": "req-41"}  # the id the gateway forwards with
    limited().post(f"{NOTE}/edit", json={"text": "stale"}, headers=headers)
    limited().post(f"{NOTE}/edit", json={"text": "stale"}, headers=auth())
    forwarded, direct = [r for r in caplog.records if r.name == "shared.http"]
    for record in (forwarded, direct):
        assert record.levelno == logging.INFO and record.exc_info is None
        assert "\n" not in record.getMessage()
    assert forwarded.getMessage() == (
        f"POST {NOTE}/edit refused, request req-41: CONFLICT the note changed since version 1"
    )
    assert direct.getMessage() == (
        f"POST {NOTE}/edit refused, request -: CONFLICT the note changed since version 1"
    )
