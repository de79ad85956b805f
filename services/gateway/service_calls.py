"""How the gateway's requests reach the services: over HTTP, or into an app of this process.

Either way a service is asked the same thing (method, path, query, the caller's headers, a JSON
body) and answers a status and a body; what could not be asked or answered in time is
`Unreachable`, named as httpx names it (`ConnectError`, `ReadTimeout`).

Over the network (the distributed mode) the gateway asks through aiohttp's client
(`OverNetwork`): a call costs the caller about a fifth of the CPU it does through httpx's
(bench/webhook_client.py measures the same POST both ways), and a command is one such call.

In the embedded default the services are mounted in the gateway's own process. `InProcessCalls`
hands their app the request a server would (an ASGI `http` scope) and collects what it sends:
the service's whole stack (routing, middleware, body limits, refusals) runs as over the network.
httpx's client with its ASGI transport does the same at about five times the CPU per call
(bench/in_process_calls.py); `ACCORD_IN_PROCESS_CALLS=httpx` takes that stock way instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import unquote, urlencode, urlsplit

import aiohttp
import httpx
import orjson
from opentelemetry import propagate
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.settings import Settings

# How long a service may take to answer, over the network or in process, unless told: the
# default settings' (the gateway tells its own Settings.answer_seconds).
ANSWER_SECONDS = Settings.model_construct().answer_seconds

# How the gateway reaches services mounted in its process (ACCORD_IN_PROCESS_CALLS).
InProcessWay = Literal["direct", "httpx"]

# Over the network uvicorn logs what an app raises; in process it is logged here, alike.
_server_log = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)
class Answer:
    status_code: int
    content: bytes


class Unreachable(Exception):
    """The service could not be asked, or did not answer in time."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ServiceCalls(Protocol):
    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Answer: ...

    async def aclose(self) -> None: ...


class OverHttp:
    """Requests through an httpx client: over the network, or through its transport."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        try:
            response = await self._client.request(
                method, url, headers=headers, json=json, params=params
            )
        except httpx.TransportError as error:
            raise Unreachable(type(error).__name__) from error
        return Answer(response.status_code, response.content)

    async def aclose(self) -> None:
        await self._client.aclose()


class OverNetwork:
    """Requests over the network through one aiohttp session, each answered within `seconds`;
    the caller's trace context goes along in the W3C headers, as httpx's instrumentation
    sent it."""

    def __init__(self, seconds: float = ANSWER_SECONDS) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds))

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers)
        propagate.inject(sent)
        body = None
        if json is not None:
            body = orjson.dumps(json)
            sent["content-type"] = "application/json"
        try:
            async with self._session.request(
                method, url, headers=sent, data=body, params=params, allow_redirects=False
            ) as response:
                return Answer(response.status, await response.read())
        except (TimeoutError, aiohttp.ClientError) as error:
            raise Unreachable(_as_httpx_names(error)) from error

    async def aclose(self) -> None:
        await self._session.close()


def _as_httpx_names(error: BaseException) -> str:
    """The reason a refusal names (`{"reason": ...}`), as it was when httpx asked."""
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return "ConnectTimeout"
    if isinstance(error, TimeoutError):
        return "ReadTimeout"
    if isinstance(error, aiohttp.ClientConnectorError):
        return "ConnectError"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "RemoteProtocolError"
    if isinstance(error, aiohttp.ClientPayloadError | aiohttp.ClientOSError):
        return "ReadError"
    return type(error).__name__


def in_process(
    app: ASGIApp, way: InProcessWay = "direct", *, seconds: float = ANSWER_SECONDS
) -> ServiceCalls:
    """Calls into `app`, mounted in this process: directly, or through httpx's ASGI transport;
    an answer slower than `seconds` is a `ReadTimeout` either way."""
    if way == "httpx":
        transport = _StockInProcess(app=_logging_faults(app), raise_app_exceptions=False)
        return OverHttp(httpx.AsyncClient(timeout=seconds, transport=transport))
    return InProcessCalls(app, seconds=seconds)


class InProcessCalls:
    """Requests answered by an app of this process, as a server would answer them: the same
    URLs, headers and bodies; a fault is logged with its traceback and answered 500; an answer
    slower than `seconds` is a `ReadTimeout`."""

    def __init__(self, app: ASGIApp, *, seconds: float = ANSWER_SECONDS) -> None:
        self._app = app
        self._seconds = seconds

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        parts = urlsplit(url)
        body = b"" if json is None else orjson.dumps(json)
        raw_headers = [
            (b"host", parts.netloc.encode()),
            (b"content-length", str(len(body)).encode()),
            *((name.lower().encode(), value.encode("latin-1")) for name, value in headers.items()),
        ]
        if json is not None:
            raw_headers.append((b"content-type", b"application/json"))
        query = urlencode(params) if params else parts.query
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": parts.scheme or "http",
            "path": unquote(parts.path),
            "raw_path": parts.path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": raw_headers,
            "server": (parts.hostname or "", parts.port or 80),
            "client": ("127.0.0.1", 0),
        }
        exchange = _Exchange(body)
        try:
            async with asyncio.timeout(self._seconds):
                await self._app(scope, exchange.receive, exchange.send)
        except TimeoutError:
            raise Unreachable("ReadTimeout") from None
        except Exception:
            _server_log.exception("Exception in ASGI application")
            if exchange.status is None:
                return Answer(500, b"")
        return Answer(exchange.status or 500, b"".join(exchange.body))

    async def aclose(self) -> None:
        return None


class _Exchange:
    """One request's body handed over once, and the answer the app sends back."""

    def __init__(self, body: bytes) -> None:
        self._request: Message | None = {"type": "http.request", "body": body, "more_body": False}
        self._answered = asyncio.Event()
        self.status: int | None = None
        self.body: list[bytes] = []

    async def receive(self) -> Message:
        if self._request is not None:
            request, self._request = self._request, None
            return request
        # As a server does: once answered, the client has gone; until then nothing more comes.
        await self._answered.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.body.append(message.get("body", b""))
            if not message.get("more_body", False):
                self._answered.set()


class _StockInProcess(httpx.ASGITransport):
    """httpx's ASGI transport, with a deadline on the answer as a network client has."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        seconds = request.extensions.get("timeout", {}).get("read")
        try:
            async with asyncio.timeout(seconds):
                return await super().handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout(f"no answer within {seconds} s", request=request) from None


def _logging_faults(app: ASGIApp) -> ASGIApp:
    async def logged(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except Exception:
            _server_log.exception("Exception in ASGI application")
            raise

    return logged
