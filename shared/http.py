"""HTTP plumbing for the services' command endpoints: bearer auth, JSON bodies, typed errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.auth import Actor, AuthenticationError, TokenVerifier, bearer_token
from shared.errors import AccordError, BadJson, InvalidInput, Unauthenticated

log = logging.getLogger(__name__)

B = TypeVar("B", bound=BaseModel)
Handler = Callable[[Actor, B, Request], Awaitable[dict[str, Any]]]


def error_response(error: AccordError) -> JSONResponse:
    return JSONResponse(error.as_dict(), status_code=error.status)


def authenticate(request: Request) -> Actor:
    """The caller, from the bearer token, checked by the verifier the app holds."""
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return verifier.verify(bearer_token(request.headers.get("authorization")))
    except AuthenticationError as error:
        raise Unauthenticated(error.reason, reason=error.code) from None


async def parse_body(request: Request, model: type[B]) -> B:
    """The JSON body as the command's model; BAD_JSON or INVALID_INPUT otherwise."""
    raw = await request.body()
    try:
        payload = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
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
            body = await parse_body(request, model)
            return JSONResponse(await handler(actor, body, request))
        except AccordError as error:
            return error_response(error)

    endpoint.__name__ = path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
    return Route(path, endpoint, methods=["POST"])


def query(path: str, handler: Callable[[Actor, Request], Awaitable[dict[str, Any]]]) -> Route:
    """A GET endpoint: authenticate, run the handler, answer JSON or a typed error."""

    async def endpoint(request: Request) -> JSONResponse:
        try:
            return JSONResponse(await handler(authenticate(request), request))
        except AccordError as error:
            return error_response(error)

    return Route(path, endpoint, methods=["GET"])
