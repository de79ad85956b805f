"""The error every service raises for bad input: a stable code, a clear message, details."""

from __future__ import annotations

from typing import Any, ClassVar

# The HTTP status for each kind of refusal; any other code is a 422 (a rule was broken).
STATUS_BY_CODE = {
    "CONFLICT": 409,
    "NOT_PERMITTED": 403,
    "NOT_A_PARTICIPANT": 403,
    "UNAUTHENTICATED": 401,
    "INVALID_INPUT": 422,
    "BAD_JSON": 400,
    "BODY_TOO_LARGE": 413,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
}


class AccordError(Exception):
    """A refusal the caller can act on; the API maps it to `{code, message, details}`."""

    code: ClassVar[str] = "INVALID_INPUT"
    # A kind of error may name its status; otherwise the code decides (see STATUS_BY_CODE).
    http_status: ClassVar[int | None] = None

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def status(self) -> int:
        if self.http_status is not None:
            return self.http_status
        if self.code.startswith("UNKNOWN_"):
            return 404
        return STATUS_BY_CODE.get(self.code, 422)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInput(AccordError):
    """A body that does not fit the command's schema."""

    code = "INVALID_INPUT"


class BadJson(AccordError):
    """A body that is not JSON at all."""

    code = "BAD_JSON"


class Unauthenticated(AccordError):
    """No token, or one that cannot be trusted."""

    code = "UNAUTHENTICATED"


class BodyTooLarge(AccordError):
    """A body past the configured limit; it is not read further."""

    code = "BODY_TOO_LARGE"


class NotFound(AccordError):
    """No endpoint at that path (or not for that method)."""

    code = "NOT_FOUND"


class MethodNotAllowed(AccordError):
    """An endpoint that exists, asked with a method it does not serve."""

    code = "METHOD_NOT_ALLOWED"


class StoredMeanwhile(Exception):
    """A mark on a refusal: the command's save lost to another command storing the same version
    of an aggregate at the same moment. Nothing of it was stored; run again on what the other
    stored, its rules checked again, it may succeed (shared/runtime.py does so)."""
