"""The gateway's limits and error policy: every refusal clear, every internal error masked."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

log = logging.getLogger(__name__)

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 15
MAX_PAGE = 100
MAX_BODY_BYTES = 100_000

# The codes front-end clients act on; anything else is an internal error and is masked.
EXPECTED_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "GRAPHQL_VALIDATION_FAILED",
    "UNAVAILABLE",
}


class Refused(GraphQLError):
    """An expected refusal that keeps its message and its `extensions.code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, extensions={"code": code})


def _is_internal(error: GraphQLError) -> bool:
    """Mask everything but expected refusals and the document's own validation errors."""
    original = error.original_error
    if original is None:
        return False  # a parse or validation error: about the query, safe to show
    if isinstance(original, GraphQLError):
        return (original.extensions or {}).get("code") not in EXPECTED_CODES
    log.exception("internal error in a resolver", exc_info=original)
    return True


# The limiters' validation rules, built once: a limiter built per request would make new rule
# classes each time, and the validation cache (keyed by the rules) would never hit.
_LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


def extensions() -> list[Any]:
    """The schema extensions, as factories (a fresh instance per request): limits, caches,
    masking."""
    return [
        partial(AddValidationRules, _LIMIT_RULES),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(ParserCache, maxsize=512),
        partial(ValidationCache, maxsize=512),
        partial(
            MaskErrors,
            should_mask_error=_is_internal,
            error_message="Internal error; quote the request id to support.",
        ),
        ValidationCodes,
    ]


class ValidationCodes(SchemaExtension):
    """Give validation failures (unknown fields, too deep...) the code clients expect."""

    def on_validate(self):  # type: ignore[no-untyped-def]
        yield
        for error in self.execution_context.pre_execution_errors or []:
            if error.extensions is None or "code" not in error.extensions:
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
