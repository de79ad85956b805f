"""Mutations forwarded to the owning service, in process or over HTTP, with the caller's token."""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import BaseModel, ValidationError
from strawberry.utils.str_converters import to_camel_case

from services.gateway.context import GatewayContext
from services.gateway.outcomes import Refusal, Unavailable, code_for, refusal, refusal_for
from services.gateway.service_calls import Unreachable

log = logging.getLogger(__name__)


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
    the caller gets a typed outcome: an answer that is not the JSON expected is a refusal too.

    The service logs its own refusals and faults with the request's id (x-correlation-id);
    what only the gateway sees, a service out of reach or an answer it cannot read, is logged
    here, once."""
    url = ctx.settings.service_url(service) + path
    headers = {"authorization": ctx.authorization, "x-correlation-id": ctx.request_id}
    try:
        response = await ctx.services.request("POST", url, json=body, headers=headers)
    except Unreachable as error:
        log.warning(
            "the %s service could not be reached, request %s: %s",
            service, ctx.request_id, error.reason,
        )  # fmt: skip
        return refusal_for(
            503,
            "UNAVAILABLE",
            f"the {service} service could not be reached; nothing was changed",
            {"reason": error.reason},
        )
    status = response.status_code
    try:
        if status == 200:
            return Accepted.model_validate_json(response.content)
        refused = ServiceRefusal.model_validate_json(response.content)
    except ValidationError:
        log.warning(
            "the %s service answered %s in a form the gateway cannot read, request %s",
            service, status, ctx.request_id,
        )  # fmt: skip
        return _unreadable(service, status)
    message, details = in_schema_names(refused.message, refused.details)
    return refusal_for(status, refused.code, message, details)


# The keys of a refusal's details whose values name the command's fields.
FIELD_NAMES = frozenset({"field", "missing"})


def schema_field(path: str) -> str:
    """A body field as the schema names it: `steps.0.dueOn` for the service's `steps.0.due_on`."""
    return ".".join(to_camel_case(part) for part in path.split("."))


def in_schema_names(message: str, details: Any) -> tuple[str, Any]:
    """A service's refusal with the fields it names as the schema names them: the details'
    keys, the fields they name (`field`, `missing`, each of `problems`), and those fields in the
    message.
    Other values (an id, a value given) stay as they are."""
    if not isinstance(details, dict):
        return message, details
    named: list[str] = []

    def renamed(entry: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for key, value in entry.items():
            if key in FIELD_NAMES and isinstance(value, str):
                named.append(value)
                value = schema_field(value)
            elif key in FIELD_NAMES and isinstance(value, list):
                named.extend(v for v in value if isinstance(v, str))
                value = [schema_field(v) if isinstance(v, str) else v for v in value]
            out[to_camel_case(key)] = value
        return out

    converted = renamed(details)
    problems = converted.get("problems")
    if isinstance(problems, list):
        converted["problems"] = [renamed(p) if isinstance(p, dict) else p for p in problems]
    for field in sorted(set(named), key=len, reverse=True):
        message = re.sub(rf"(?<![\w.]){re.escape(field)}(?![\w])", schema_field(field), message)
    return message, converted


def _unreadable(service: str, status: int) -> Refusal:
    if status == 200:  # it may have done it: say so, never "nothing was changed"
        message = (
            f"the {service} service answered in a form the gateway cannot read;"
            " reload to see whether the change was made"
        )
        return refusal(Unavailable, "UNREADABLE_ANSWER", message, {"status": status})
    message = f"the {service} service answered {status}"
    return refusal_for(status, code_for(status), message, {"status": status})
