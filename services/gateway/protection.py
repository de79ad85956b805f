"""The gateway's limits and error policy: every refusal clear, every internal error masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import suppress
from functools import lru_cache, partial
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    NoSchemaIntrospectionCustomRule,
    get_operation_ast,
    parse,
    specified_rules,
)
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
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.schema.schema import validate_document

log = logging.getLogger(__name__)

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 15
MAX_PAGE = 100
MAX_BODY_BYTES = 100_000
# How many documents the caches keep: the gateway's clients send a few hundred distinct ones.
CACHED_DOCUMENTS = 512

# The codes front-end clients act on; anything else is an internal error and is masked.
EXPECTED_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
    "UNAVAILABLE",
}


class Refused(GraphQLError):
    """An expected refusal that keeps its message and its `extensions.code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, extensions={"code": code})


# The limiters' validation rules, built once: a limiter built per request would make new rule
# classes each time, and a cache keyed by the rules would never hit.
_LIMIT_RULES = (
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
)

MASKED_MESSAGE = "Internal error; quote the request id to support."


def validation_rules(*, introspection: bool) -> tuple[type[ASTValidationRule], ...]:
    """GraphQL's own rules, the gateway's limits, and no introspection in production."""
    closed = () if introspection else (NoSchemaIntrospectionCustomRule,)
    return (*specified_rules, *_LIMIT_RULES, *closed)


@lru_cache(maxsize=CACHED_DOCUMENTS)
def parse_document(query: str) -> DocumentNode:
    """The parsed document, cached by its text; more than MAX_TOKENS tokens is refused."""
    return parse(query, max_tokens=MAX_TOKENS)


class _Query:
    """A parsed document that hashes and compares as its text (hashing the syntax tree, as
    strawberry's ValidationCache does, costs more than most of a request)."""

    __slots__ = ("document", "text")

    def __init__(self, text: str, document: DocumentNode) -> None:
        self.text, self.document = text, document

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Query) and other.text == self.text


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _validated(
    schema: GraphQLSchema, query: _Query, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    return validate_document(schema, query.document, rules)


def validation_errors(
    schema: GraphQLSchema,
    query: str,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
) -> list[GraphQLError]:
    """What is wrong with the document, cached by its text (`judge` codes each error)."""
    return _validated(schema, _Query(query, document), rules)


def answerable(errors: Sequence[GraphQLError], request_id: str) -> list[GraphQLError]:
    """The errors as a client may see them: coded and logged (`judge`), internal errors
    masked."""
    judge(errors, request_id)
    return [_masked(error) if is_internal(error) else error for error in errors]


def _masked(error: GraphQLError) -> GraphQLError:
    return GraphQLError(
        MASKED_MESSAGE, nodes=error.nodes, source=error.source,
        positions=error.positions, path=error.path,
    )  # fmt: skip


def judge(errors: Sequence[GraphQLError], request_id: str) -> None:
    """Code each error about the request itself, and log the request's errors once: each
    internal error with its traceback and the request id; the refusals and mistakes in the
    request together as one line (they are the caller's, not a fault to debug)."""
    refusals = []
    for error in errors:
        _code(error)
        if is_internal(error):
            log.error("internal error, request %s", request_id, exc_info=error.original_error)
        else:
            refusals.append(f"{(error.extensions or {}).get('code')} {error.message}")
    if refusals:  # the same refusal of several fields is said once
        said = "; ".join(dict.fromkeys(refusals))
        log.info("refused, request %s: %s", request_id, " ".join(said.split()))


def _code(error: GraphQLError) -> None:
    if isinstance(error, GraphQLSyntaxError):
        error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_PARSE_FAILED"}
    elif error.path is None:
        # Not at a field: the document or its variables are wrong (an unknown field, too deep,
        # a variable that does not coerce), coded as the same value written inline is.
        extensions = error.extensions or {}
        if "code" not in extensions:
            error.extensions = {**extensions, "code": "GRAPHQL_VALIDATION_FAILED"}


def is_internal(error: GraphQLError) -> bool:
    """Whether the error is a fault the client must not see the details of."""
    original = error.original_error
    if original is None or _is_expected(original):
        return False
    # A value a scalar refused before execution (a variable) is the caller's mistake.
    return not (error.path is None and isinstance(original, GraphQLError))


def log_refusal(request_id: str, code: object, message: str) -> None:
    """One line at info: a refusal is an answer, not a fault (no traceback)."""
    log.info("refused, request %s: %s %s", request_id, code, " ".join(message.split()))


def _is_expected(original: Exception) -> bool:
    if not isinstance(original, GraphQLError):
        return False
    return (original.extensions or {}).get("code") in EXPECTED_CODES


# The same policy for operations strawberry runs itself (graphql-transport-ws), as extensions.


def extensions(*, introspection: bool) -> list[Any]:
    """The schema extensions, as factories (a fresh instance per operation)."""
    rules = validation_rules(introspection=introspection)
    return [
        CachedParsing,
        NamedOperation,
        partial(LimitedValidation, rules=rules),
        MaskInternalErrors,
    ]


class CachedParsing(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = MAX_TOKENS
        if context.query is not None and context.graphql_document is None:
            with suppress(GraphQLError):  # strawberry parses it again and reports the error
                context.graphql_document = parse_document(context.query)
        yield


class NamedOperation(SchemaExtension):
    """GraphQL's rule, which strawberry relaxes (it runs the first operation): a document of
    several operations names the one to run, else the request is refused as pipeline.py does."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        # As the client sent it (`operation_name` answers the first operation's when none was).
        named = context._provided_operation_name
        if context.graphql_document and not get_operation_ast(context.graphql_document, named):
            raise CannotGetOperationTypeError(named)
        yield


class LimitedValidation(SchemaExtension):
    def __init__(self, *, rules: tuple[type[ASTValidationRule], ...]) -> None:
        self.rules = rules

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is not None:
            context.pre_execution_errors = validation_errors(
                context.schema._schema, context.query, context.graphql_document, self.rules
            )
        yield


class MaskInternalErrors(MaskErrors):
    def _process_result(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            request_id = getattr(self.execution_context.context, "request_id", "")
            result.errors = answerable(errors, request_id)  # type: ignore[attr-defined]


# Stock strawberry under the same policy (ACCORD_GRAPHQL_ENGINE=stock): its own extensions,
# with the rules built once so that its validation cache can hit; the schema's process_errors
# codes and logs each error (pipeline.StockSchema).


def stock_extensions(*, introspection: bool) -> list[Any]:
    """strawberry's parser and validation caches, token limit, added rules and masking."""
    closed = () if introspection else (NoSchemaIntrospectionCustomRule,)
    rules = [*_LIMIT_RULES, *closed]
    return [
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(AddValidationRules, rules),
        partial(ReportedParserCache, maxsize=CACHED_DOCUMENTS),
        NamedOperation,
        partial(ValidationCache, maxsize=CACHED_DOCUMENTS),
        partial(MaskErrors, should_mask_error=is_internal, error_message=MASKED_MESSAGE),
    ]


class ReportedParserCache(ParserCache):
    """strawberry's parser cache, which lets a syntax error escape its hook: over
    graphql-transport-ws that leaves the operation unanswered. Left to strawberry's own parse
    instead, the error is reported (a 4400 close, as the protocol asks)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            with suppress(GraphQLError):
                context.graphql_document = self.cached_parse_document(
                    context.query, **context.parse_options
                )
        yield
