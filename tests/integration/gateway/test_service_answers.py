"""Whatever a service answers, the gateway answers its caller with a typed outcome: a plain-text
page, a JSON list or a half-filled object is a refusal with a code, never an internal error.

The service is a real HTTP server on loopback that answers what each test tells it to."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from opentelemetry import context, propagate
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.gateway.context import GatewayContext
from services.gateway.forwarding import Accepted, forward
from services.gateway.notifications import NotificationQueries
from services.gateway.outcomes import BadInput, Forbidden, NotFound, Unavailable
from services.gateway.protection import Refused
from services.gateway.service_calls import OverNetwork
from shared.auth import Actor
from shared.settings import Settings
from tests.integration.http_server import serving


@dataclass
class Service:
    """A real HTTP peer standing in for every service: it answers the next answer it is given."""

    url: str
    calls: OverNetwork
    answer: tuple[int, bytes, str] = (200, b"", "text/plain")
    asked: list[str] = field(default_factory=list)
    traces: list[str] = field(default_factory=list)

    def answers(self, status: int, content: bytes, kind: str = "text/plain") -> GatewayContext:
        """Make the service answer so, and give a gateway context that forwards to it."""
        self.answer = (status, content, kind)
        address = urlsplit(self.url)
        settings = Settings(host=address.hostname or "127.0.0.1", port=address.port or 80)
        return GatewayContext(
            actor=Actor("am"), refused="", authorization="Bearer t", request_id="r",
            pool=None,  # type: ignore[arg-type]  # forwarding never reads the read models
            services=self.calls, settings=settings,
        )  # fmt: skip


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    async def endpoint(request: Request) -> Response:
        peer.asked.append(f"{request.method} {request.url.path}")
        peer.traces.append(request.headers.get("traceparent", ""))
        status, content, kind = peer.answer
        return Response(content, status_code=status, media_type=kind)

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])
    async with serving(app) as url:
        peer = Service(url, OverNetwork(seconds=10))
        yield peer
        await peer.calls.aclose()


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
    service: Service, status: int, content: bytes, kind: type, code: str
) -> None:
    outcome = await forward(service.answers(status, content), "elicitation", "/contracts", {})
    assert isinstance(outcome, kind) and outcome.code == code, outcome
    assert service.asked == ["POST /elicitation/contracts"]
    if status == 200:  # it may have been done: never claim that nothing changed
        assert "nothing was changed" not in outcome.message


async def test_a_well_formed_answer_is_taken_as_it_is(service: Service) -> None:
    ctx = service.answers(200, OK, "application/json")
    accepted = await forward(ctx, "elicitation", "/x", {})
    assert accepted == Accepted(id="5e0c5c4e-8d7c-4bb7-9d8c-3e9b1a8f7a01", version=2, positions=[7])
    conflict = b'{"code": "CONFLICT", "message": "reload", "details": {"v": 3}}'
    refused = await forward(service.answers(409, conflict, "application/json"), "e", "/x", {})
    assert refused == type(refused)(code="CONFLICT", message="reload", details={"v": 3})


@pytest.mark.parametrize(("status", "content"), [(404, b"Not Found"), (200, b"ok"), (200, b"[]")])
async def test_the_notifications_service_answering_plain_text_is_a_coded_error(
    service: Service, status: int, content: bytes
) -> None:
    # Its commands go through `forward` like every service's (the tests above); its reads too.
    info: Any = type("Info", (), {"context": service.answers(status, content)})()
    with pytest.raises(Refused) as refused:
        await NotificationQueries().notifications(info)
    assert refused.value.extensions == {"code": "NOT_FOUND" if status == 404 else "UNAVAILABLE"}
    assert all(asked.split()[1].startswith("/notifications/") for asked in service.asked)


async def test_a_service_nobody_answers_for_is_unavailable_and_nothing_changed(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:  # a port just freed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    service.url = f"http://127.0.0.1:{port}"
    caplog.set_level(logging.INFO, logger="services.gateway.forwarding")

    outcome = await forward(service.answers(200, OK), "elicitation", "/contracts", {})

    assert isinstance(outcome, Unavailable) and outcome.code == "UNAVAILABLE", outcome
    assert outcome.details == {"reason": "ConnectError"}
    assert "nothing was changed" in outcome.message
    [logged] = [r for r in caplog.records if r.name == "services.gateway.forwarding"]
    assert "could not be reached" in logged.getMessage() and logged.exc_info is None


async def test_the_callers_trace_context_goes_along_to_the_service(service: Service) -> None:
    carried = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    token = context.attach(propagate.extract({"traceparent": carried}))
    try:
        await forward(service.answers(200, OK, "application/json"), "elicitation", "/x", {})
    finally:
        context.detach(token)
    await forward(service.answers(200, OK, "application/json"), "elicitation", "/x", {})
    assert service.traces == [carried, ""]
