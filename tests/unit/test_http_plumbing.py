"""Command endpoints: bearer auth, JSON bodies, and every refusal as {code, message, details}."""

from typing import Any

from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.testclient import TestClient

from shared.auth import Actor, TokenVerifier, mint_token
from shared.errors import AccordError
from shared.http import command
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
