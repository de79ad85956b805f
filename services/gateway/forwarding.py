"""Mutations forwarded to the owning service over HTTP, with the caller's own token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from services.gateway.context import GatewayContext
from services.gateway.outcomes import Refusal, refusal_for


@dataclass(frozen=True)
class Accepted:
    """The service stored the command's events."""

    id: str
    version: int
    positions: list[int]
    created: str | None = None


async def forward(
    ctx: GatewayContext, service: str, path: str, body: dict[str, Any]
) -> Accepted | Refusal:
    """POST the command; the service checks the rules and roles again."""
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
    try:
        answer: dict[str, Any] = response.json()
    except ValueError:
        answer = {}
    if response.status_code == 200:
        return Accepted(
            id=answer["id"],
            version=answer["version"],
            positions=answer["positions"],
            created=answer.get("created"),
        )
    return refusal_for(
        response.status_code,
        answer.get("code", "UNAVAILABLE"),
        answer.get("message", f"the {service} service answered {response.status_code}"),
        answer.get("details"),
    )
