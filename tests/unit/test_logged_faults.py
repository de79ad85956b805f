"""A service's real fault: answered 500 INTERNAL in JSON, its traceback logged once with the
request's correlation id (the gateway's request id), and nothing raised on to be logged again."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from shared.faults import LoggedFaults


async def broken(request: Request) -> Response:
    raise AttributeError("'Reminder' object has no attribute 'person_id'")


async def broken_midway(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        yield b"begun"
        raise RuntimeError("after the answer began")

    return StreamingResponse(body())


APP = Starlette(
    routes=[Route("/broken", broken), Route("/midway", broken_midway)],
    middleware=[Middleware(LoggedFaults)],
)


def test_a_fault_is_answered_in_json_and_logged_once_with_its_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO), TestClient(APP, raise_server_exceptions=True) as client:
        response = client.get("/broken", headers={"x-correlation-id": "fuzz-7-12"})
    assert response.status_code == 500
    assert response.json() == {
        "code": "INTERNAL", "message": "an internal error; it was logged", "details": {},
    }  # fmt: skip
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["internal error, request fuzz-7-12"]
    assert errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], AttributeError)


def test_a_fault_after_the_answer_began_is_logged_and_raised_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with TestClient(APP, raise_server_exceptions=True) as client, pytest.raises(RuntimeError):
        client.get("/midway", headers={"x-correlation-id": "r-1"})
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "internal error, request r-1"
    ]
