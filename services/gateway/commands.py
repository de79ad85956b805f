"""How the gateway runs a declared command: check its input against the command's own body
model, forward it to the owning service with the caller's token, wait for the read model
(read-your-writes, bounded), and answer with the changed object or a typed refusal."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import strawberry
from pydantic import ValidationError
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from services.gateway.access import actor_of, sees, unseen
from services.gateway.consistency import ReadYourWrites, events_of_command
from services.gateway.context import GatewayContext
from services.gateway.forwarding import Accepted, forward
from services.gateway.ids import NotAnId, uuid_text
from services.gateway.outcomes import BadInput, Refusal, Refusals, Unavailable, refusal
from services.gateway.protection import log_refusal
from shared.commands.declaration import Body, Command

T = TypeVar("T")


@dataclass(frozen=True)
class Done:
    """A command the service accepted: the object to show, and what the command created."""

    key: str
    version: int
    consistent: bool
    created: strawberry.ID | None
    # The aggregate the command stored events on, whose version `version` is: the object shown,
    # or one of its own inside it (a contract's question, lesson or assumption).
    changed: str


Show = Callable[[GatewayContext, Done], Awaitable[T]]


def field_path(location: tuple[int | str, ...]) -> str:
    """A field as the schema names it: `steps.0.dueOn` for the body's `steps[0].due_on`."""
    return ".".join(
        to_camel_case(part) if isinstance(part, str) else str(part) for part in location
    )


def as_data(value: Any) -> Any:
    """An input object as plain data for the body model (dates stay dates, enums enums)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [as_data(item) for item in value]
    return value


def checked_body(declared: Command[Body], data: dict[str, Any]) -> dict[str, Any] | Refusal:
    """The body as JSON for the service, or the refusal its model gives (ID_INVALID for an id
    that is not a UUID, INVALID_INPUT otherwise), fields named as the schema names them."""
    try:
        return declared.body.model_validate(data).model_dump(mode="json")
    except ValidationError as error:
        problems = [{"field": field_path(e["loc"]), "problem": e["msg"]} for e in error.errors()]
        fields = ", ".join(p["field"] or "input" for p in problems)
        ids = all(e["type"].startswith("uuid") for e in error.errors())
        code = "ID_INVALID" if ids else "INVALID_INPUT"
        return refusal(BadInput, code, f"invalid input: {fields}", problems)


async def _unseen(ctx: GatewayContext, segments: dict[str, str], answer: Refusal) -> Refusal:
    """The refusal as the caller may see it: to someone with no role on the contract of the
    object the mutation names, one that exists and one that does not are refused alike."""
    if not segments or isinstance(answer, Unavailable):
        return answer
    field, key = next(iter(segments.items()))
    if await sees(ctx, field, key):
        return answer
    return unseen(ctx, field, key)


def _refused(ctx: GatewayContext, answer: Refusal) -> Refusals:
    log_refusal(ctx.request_id, answer.code, answer.message)
    return cast(Refusals, answer)  # every Refusal made is of one of the kinds


async def run(
    info: Info[GatewayContext, None],
    declared: Command[Body],
    given: Any,
    show: Show[T],
    *,
    shows: str | None = None,
) -> T | Refusals:
    """Run `declared` with the mutation's input `given`; answer `show` of the object it changed
    (or of the one named by the segment `shows`), or the refusal."""
    ctx = info.context
    actor_of(ctx)
    data = as_data(given)
    try:
        segments = {
            name: uuid_text(data.pop(name), to_camel_case(name)) for name in declared.segments
        }
    except NotAnId as error:
        details = {"field": error.field, "value": error.value}
        return _refused(ctx, refusal(BadInput, "ID_INVALID", str(error), details))
    body = checked_body(declared, data)
    if isinstance(body, Refusal):
        return _refused(ctx, body)
    waits = ctx.read_your_writes or ReadYourWrites(ctx.pool, ctx.changes)
    # Whatever the command stores is stored after this (read-your-writes may need no read).
    started = waits.clock()
    outcome = await forward(ctx, declared.service, declared.route(**segments), body)
    if not isinstance(outcome, Accepted):
        # Logged once already, by the service or by `forward`, with this request's id.
        return cast(Refusals, await _unseen(ctx, segments, outcome))
    stored = events_of_command(outcome.id, outcome.version, len(outcome.positions))
    consistent = await waits.caught_up(
        stored, ctx.settings.read_your_writes_seconds, stored_after=started
    )
    created = outcome.created or (outcome.id if declared.creates else None)
    key = segments[shows] if shows else outcome.id
    created_id = None if created is None else strawberry.ID(created)
    return await show(ctx, Done(key, outcome.version, consistent, created_id, outcome.id))
