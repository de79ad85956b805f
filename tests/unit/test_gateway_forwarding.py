"""Whatever a service answers, the gateway answers its caller with a typed outcome: a plain-text
page, a JSON list or a half-filled object is a refusal with a code, never an internal error."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.gateway.context import GatewayContext
from services.gateway.forwarding import Accepted, forward
from services.gateway.ids import path
from services.gateway.notifications import NotificationMutations, NotificationQueries
from services.gateway.outcomes import BadInput, Forbidden, NotFound, Unavailable
from services.gateway.protection import Refused
from shared.auth import Actor
from shared.settings import Settings


def context(status: int, content: bytes, kind: str = "text/plain") -> GatewayContext:
    """A gateway context whose every service answers `status` with `content`."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"content-type": kind})

    return GatewayContext(
        actor=Actor("am"), refused="", authorization="Bearer t", request_id="r",
        pool=None,  # type: ignore[arg-type]  # forwarding never reads the read models
        http=httpx.AsyncClient(transport=httpx.MockTransport(answer)), settings=Settings(),
    )  # fmt: skip


OK = b'{"id": "5e0c5c4e-8d7c-4bb7-9d8c-3e9b1a8f7a01", "version": 2, "positions": [7]}'


@pytest.mark.parametrize(
    ("status", "content", "kind", "code"),
    [
        (404, b"Not Found", NotFound, "NOT_FOUND"),
        (403, b"<html>no</html>", Forbidden, "FORBIDDEN"),
        (422, b"", BadInput, "BAD_USER_INPUT"),
        (500, b"Internal Server Error", Unavailable, "UNAVAILABLE"),
        (404, b'{"code": "UNKNOWN_RISK"}', NotFound, "NOT_FOUND"),  # no message: not its shape
        (200, b"ok", Unavailable, "UNREADABLE_ANSWER"),
        (200, b"[1, 2]", Unavailable, "UNREADABLE_ANSWER"),
        (200, b'{"id": "x"}', Unavailable, "UNREADABLE_ANSWER"),
    ],
)
async def test_an_answer_that_is_not_the_json_expected_is_a_typed_refusal(
    status: int, content: bytes, kind: type, code: str
) -> None:
    outcome = await forward(context(status, content), "elicitation", "/contracts", {})
    assert isinstance(outcome, kind) and outcome.code == code, outcome
    if status == 200:  # it may have been done: never claim that nothing changed
        assert "nothing was changed" not in outcome.message


async def test_a_well_formed_answer_is_taken_as_it_is() -> None:
    accepted = await forward(context(200, OK, "application/json"), "elicitation", "/x", {})
    assert accepted == Accepted(id="5e0c5c4e-8d7c-4bb7-9d8c-3e9b1a8f7a01", version=2, positions=[7])
    refused = await forward(
        context(409, b'{"code": "CONFLICT", "message": "reload", "details": {"v": 3}}'),
        "e",
        "/x",
        {},
    )
    assert refused == type(refused)(code="CONFLICT", message="reload", details={"v": 3})


@pytest.mark.parametrize(("status", "content"), [(404, b"Not Found"), (200, b"ok"), (200, b"[]")])
async def test_the_notifications_service_answering_plain_text_is_a_coded_error(
    status: int, content: bytes
) -> None:
    info: Any = type("Info", (), {"context": context(status, content)})()
    notice = "5e0c5c4e-8d7c-4bb7-9d8c-3e9b1a8f7a01"
    for call in [
        lambda: NotificationMutations().acknowledge_notification(info, notice),
        lambda: NotificationQueries().notifications(info),
    ]:
        with pytest.raises(Refused) as refused:
            await call()
        assert refused.value.extensions == {"code": "NOT_FOUND" if status == 404 else "UNAVAILABLE"}


def test_a_service_path_is_built_from_quoted_segments() -> None:
    built = path("/expectations/{expectation_id}/commit", expectation_id="../obligations/1?x=")
    assert built == "/expectations/..%2Fobligations%2F1%3Fx%3D/commit"
