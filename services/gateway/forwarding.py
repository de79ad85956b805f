"""Mutations forwarded to the owning service over HTTP, with the caller's own token."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from services.gateway.context import GatewayContext
from services.gateway.outcomes import Refusal, Unavailable, code_for, refusal, refusal_for


class Accepted(BaseModel):
    """The service stored the command's events."""

    id: str
    version: int
    positions: list[int]
    created: str | None = None


class ServiceRefusal(BaseModel):
    """A service's typed error answer."""

    code: str
    message: str
    details: Any = None


async def forward(
    ctx: GatewayContext, service: str, path: str, body: dict[str, Any]
) -> Accepted | Refusal:
    """POST the command; the service checks the rules and roles again. Whatever it answers,
    the caller gets a typed outcome: an answer that is not the JSON expected is a refusal too."""
    url = ctx.settings.service_url(service) + path
    headers = {"authorization": ctx.authorization, "x-correlation-id": ctx.request_id}
    try:
        response = await ctx.http.post(url, json=body, headers=headers)
    except httpx.TransportError as error:
        return refusal_for(
            503,
            "UNAVAILABLE",
            f"the {service} service could not be reached; nothing was changed",
            {"reason": type(error).__name__},
        )
    status = response.status_code
    try:
        if status == 200:
            return Accepted.model_validate_json(response.content)
        refused = ServiceRefusal.model_validate_json(response.content)
    except ValidationError:
        return _unreadable(service, status)
    return refusal_for(status, refused.code, refused.message, refused.details)


def _unreadable(service: str, status: int) -> Refusal:
    if status == 200:  # it may have done it: say so, never "nothing was changed"
        message = (
            f"the {service} service answered in a form the gateway cannot read;"
            " reload to see whether the change was made"
        )
        return refusal(Unavailable, "UNREADABLE_ANSWER", message, {"status": status})
    message = f"the {service} service answered {status}"
    return refusal_for(status, code_for(status), message, {"status": status})
