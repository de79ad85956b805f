"""A real fault in a service: its traceback logged once, naming the request's correlation id
(the gateway's request id, so one id finds the fault in every process's log), and answered
500 INTERNAL in JSON like every other answer."""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http import answer

log = logging.getLogger(__name__)

INTERNAL = {"code": "INTERNAL", "message": "an internal error; it was logged", "details": {}}


class LoggedFaults:
    """ASGI middleware: what the app raises is logged here and answered, not raised on (so no
    server logs it a second time, without the id); a fault after the answer began is raised."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            correlation = Headers(scope=scope).get("x-correlation-id", "")
            log.error("internal error, request %s", correlation, exc_info=error)
            if started:
                raise
            await answer(INTERNAL, 500)(scope, receive, send)
