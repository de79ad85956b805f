"""What a mutation can answer besides success: typed errors, as front-end clients expect."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON


@strawberry.interface(description="Why a mutation did not happen.")
class Refusal:
    code: str
    message: str
    details: JSON | None = strawberry.field(
        default=None,
        description="What the refusal is about, as its code says (`field` and `value`, the"
        " `problems` of an input, `expectedVersion` and `version`...), fields named as this"
        " schema names them: open, because each code carries its own.",
    )


@strawberry.type(description="The input breaks a rule (empty text, inverted target...).")
class BadInput(Refusal):
    pass


@strawberry.type(description="What the mutation names does not exist.")
class NotFound(Refusal):
    pass


@strawberry.type(description="The caller's role on the contract does not allow this.")
class Forbidden(Refusal):
    pass


@strawberry.type(description="Someone changed it first: reload and try again.")
class Conflict(Refusal):
    pass


@strawberry.type(description="The owning service could not be reached; nothing was changed.")
class Unavailable(Refusal):
    pass


# The code for a service's answer that said nothing but its HTTP status: the GraphQL error codes.
CODE_BY_STATUS = {404: "NOT_FOUND", 403: "FORBIDDEN", 401: "UNAUTHENTICATED", 409: "CONFLICT"}


# Every refusal is one of these kinds (a union member of each mutation's result).
Refusals = BadInput | NotFound | Forbidden | Conflict | Unavailable


def code_for(status: int) -> str:
    return CODE_BY_STATUS.get(status, "UNAVAILABLE" if status >= 500 else "BAD_USER_INPUT")


def refusal(kind: type[Refusal], code: str, message: str, details: Any) -> Refusal:
    """A refusal the gateway itself makes, with its details as JSON."""
    return kind(code=code, message=message, details=details)


def refusal_for(status: int, code: str, message: str, details: Any) -> Refusal:
    """The typed refusal for a service's error answer."""
    kinds: dict[int, type[Refusal]] = {404: NotFound, 403: Forbidden, 401: Forbidden, 409: Conflict}
    kind = kinds.get(status, Unavailable if status >= 500 else BadInput)
    return kind(code=code, message=message, details=details)
