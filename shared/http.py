"""HTTP plumbing for the services' endpoints: bearer auth, bounded JSON bodies, ids in paths,
typed refusals (each logged as one line)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

import pydantic_core
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.auth import Actor, AuthenticationError, TokenVerifier, bearer_token
from shared.commands.declaration import Body, Command
from shared.errors import AccordError, BadJson, BodyTooLarge, InvalidInput, Unauthenticated

log = logging.getLogger(__name__)

B = TypeVar("B", bound=BaseModel)
Declared = TypeVar("Declared", bound=Body)
Handler = Callable[[Actor, B, Request], Awaitable[dict[str, Any]]]
# When the app names no limit of its own (service_app sets it from the settings).
DEFAULT_MAX_BODY_BYTES = 131_072


def answer(content: Any, status_code: int = 200) -> JSONResponse:
    """JSON of what a handler returns: decimals as their exact text, dates and instants in ISO
    8601, UUIDs as text (a value the standard encoder does not know is never a 500)."""
    return JSONResponse(
        pydantic_core.to_jsonable_python(content, fallback=str), status_code=status_code
    )


def error_response(error: AccordError) -> JSONResponse:
    return answer(error.as_dict(), error.status)


def refused(request: Request, error: AccordError) -> JSONResponse:
    """The refusal as JSON, logged as one line with the request's id (the gateway's, when it
    forwarded the command): a refusal is the caller's, not a fault."""
    log.info(
        "%s %s refused, request %s: %s %s",
        request.method,
        request.url.path,
        request.headers.get("x-correlation-id", "-"),
        error.code,
        " ".join(error.message.split()),
    )
    return error_response(error)


def authenticate(request: Request) -> Actor:
    """The caller, from the bearer token, checked by the verifier the app holds."""
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return verifier.verify(bearer_token(request.headers.get("authorization")))
    except AuthenticationError as error:
        raise Unauthenticated(error.reason, reason=error.code) from None


def path_ids(request: Request) -> None:
    """Every path parameter of a service is an id: parsed as a UUID, or refused, before the
    request reaches any store (handlers then find UUIDs in `request.path_params`)."""
    params = request.scope.get("path_params", {})
    for name, value in params.items():
        if isinstance(value, UUID):
            continue
        try:
            params[name] = UUID(str(value))
        except ValueError:
            raise InvalidInput(
                f"{name} must be a UUID, not {str(value)[:80]!r}",
                problems=[{"field": name, "problem": "not a UUID"}],
            ) from None


def max_body_bytes(request: Request) -> int:
    limit: int = getattr(request.app.state, "max_body_bytes", DEFAULT_MAX_BODY_BYTES)
    return limit


async def read_body(request: Request) -> bytes:
    """The body, read up to the app's limit: a larger one is refused by its Content-Length
    when it has one, else as soon as the stream passes the limit."""
    limit = max_body_bytes(request)
    too_large = BodyTooLarge(f"the body is over {limit} bytes", limit=limit)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def parse_body(request: Request, model: type[B]) -> B:
    """The JSON body as the command's model; BAD_JSON or INVALID_INPUT otherwise.

    The JSON parser stops at a nesting depth no command needs (a deep body is BAD_JSON, where
    the standard library's parser would run out of stack), and refuses NaN and Infinity.
    """
    raw = await read_body(request)
    try:
        payload = pydantic_core.from_json(raw or b"{}", allow_inf_nan=False)
    except ValueError as error:
        raise BadJson(f"the body is not JSON: {error}") from None
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
            for e in error.errors()
        ]
        fields = ", ".join(p["field"] or "body" for p in problems)
        raise InvalidInput(f"invalid input: {fields}", problems=problems) from None


def command(path: str, model: type[B], handler: Handler[B]) -> Route:
    """A POST endpoint: authenticate, parse, run the handler, answer JSON or a typed error."""

    async def endpoint(request: Request) -> JSONResponse:
        try:
            actor = authenticate(request)
            path_ids(request)
            body = await parse_body(request, model)
            return answer(await handler(actor, body, request))
        except AccordError as error:
            return refused(request, error)

    endpoint.__name__ = path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
    return Route(path, endpoint, methods=["POST"])


def route(declared: Command[Declared], handler: Handler[Declared]) -> Route:
    """The endpoint of a declared command: its path and body as declared, the handler named
    after it."""
    return command(declared.path, declared.body, handler)


def query(path: str, handler: Callable[[Actor, Request], Awaitable[dict[str, Any]]]) -> Route:
    """A GET endpoint: authenticate, run the handler, answer JSON or a typed error."""

    async def endpoint(request: Request) -> JSONResponse:
        try:
            actor = authenticate(request)
            path_ids(request)
            return answer(await handler(actor, request))
        except AccordError as error:
            return refused(request, error)

    return Route(path, endpoint, methods=["GET"])
