"""The gateway's limits and error policy: every refusal clear, every internal error masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import lru_cache, partial
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.schema import validate_document

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
# classes each time, and a cache keyed by the rules would never hit.
_LIMIT_RULES = (
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
)


def extensions() -> list[Any]:
    """The schema extensions, as factories (a fresh instance per request): limits, caches,
    masking."""
    return [
        partial(LimitedParsing, maxsize=512),
        LimitedValidation,
        partial(
            MaskInternalErrors,
            should_mask_error=_is_internal,
            error_message="Internal error; quote the request id to support.",
        ),
    ]


class LimitedParsing(ParserCache):
    """strawberry's parser cache, refusing documents of more than MAX_TOKENS tokens (what its
    MaxTokensLimiter does, without one more extension to run on every request)."""

    def on_parse(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = MAX_TOKENS
        yield from super().on_parse()


class _Query:
    """A parsed document that hashes and compares as its text. strawberry's ValidationCache
    finds its entry by hashing the whole syntax tree, on every request."""

    __slots__ = ("document", "text")

    def __init__(self, text: str, document: DocumentNode) -> None:
        self.text, self.document = text, document

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Query) and other.text == self.text


@lru_cache(maxsize=512)
def _validated(
    schema: GraphQLSchema, query: _Query, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    errors = validate_document(schema, query.document, rules)
    for error in errors:  # the code clients expect for unknown fields, too deep...
        if error.extensions is None or "code" not in error.extensions:
            error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
    return errors


class LimitedValidation(SchemaExtension):
    """Validation with the gateway's limits (depth, aliases), cached by query text; failures
    carry the code GRAPHQL_VALIDATION_FAILED."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is not None:
            rules = (*context.validation_rules, *_LIMIT_RULES)
            query = _Query(context.query, context.graphql_document)
            context.pre_execution_errors = _validated(context.schema._schema, query, rules)
        yield


class MaskInternalErrors(MaskErrors):
    """strawberry's MaskErrors, finding a result's errors without a runtime protocol check
    (an isinstance against a Protocol costs more than the rest of the extension)."""

    def _process_result(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]
