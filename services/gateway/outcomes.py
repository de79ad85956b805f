"""What a mutation can answer besides success: typed errors, as front-end clients expect."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON


@strawberry.interface(description="Why a mutation did not happen.")
class Refusal:
    code: str
    message: str
    details: JSON | None = None


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


def refusal_for(status: int, code: str, message: str, details: Any) -> Refusal:
    """The typed refusal for a service's error answer."""
    kinds: dict[int, type[Refusal]] = {404: NotFound, 403: Forbidden, 401: Forbidden, 409: Conflict}
    kind = kinds.get(status, Unavailable if status >= 500 else BadInput)
    return kind(code=code, message=message, details=details)
