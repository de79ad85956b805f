"""One query or mutation from its text to its answer: parse, validate, execute, mask.

strawberry's own `Schema.execute` runs every schema extension's hooks around each step and
converts the result twice; for a small read that was a good part of the gateway's time. Here
the same steps run straight, under the policy in protection.py (cached parsing with a token
limit, cached validation with the limits, masking with a request id), which strawberry's
extensions apply to the operations it runs itself (graphql-transport-ws).

`StockSchema` is strawberry's own `Schema.execute` under the same policy, for
ACCORD_GRAPHQL_ENGINE=stock: the baseline the overrides are measured against and tested beside.
"""

from __future__ import annotations

from collections.abc import Iterable
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, execute, get_operation_ast
from strawberry.exceptions import MissingQueryError
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from services.gateway.protection import (
    answerable,
    judge,
    parse_document,
    validation_errors,
    validation_rules,
)


class AccordSchema(strawberry.Schema):
    def __init__(self, *args: Any, introspection: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rules = validation_rules(introspection=introspection)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """strawberry's contract: errors about the document come back in the result; a missing
        query or a disallowed operation type raise, for the transport to refuse."""
        if not query:
            raise MissingQueryError
        request_id = getattr(context_value, "request_id", "")
        try:
            document = parse_document(query)
        except GraphQLError as error:
            return self._answer(None, [error], request_id)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            raise CannotGetOperationTypeError(operation_name)
        kind = OperationType(operation.operation.value)
        if allowed_operation_types is None:
            allowed_operation_types = DEFAULT_ALLOWED_OPERATION_TYPES
        if kind not in allowed_operation_types:  # an empty set allows nothing
            raise InvalidOperationTypeError(kind)
        if errors := validation_errors(self._schema, query, document, self.rules):
            return self._answer(None, errors, request_id)
        result = execute(
            self._schema,
            document,
            root_value=root_value,
            context_value=context_value,
            variable_values=variable_values,
            operation_name=operation_name,
            executor_class=self.execution_context_class,
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
            operation_extensions=operation_extensions,
        )
        if isawaitable(result):
            result = await result
        assert isinstance(result, GraphQLExecutionResult)
        return self._answer(result.data, result.errors, request_id)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Nothing here: `answerable` logs each error once, a refusal as one line at info and
        an internal error with its traceback (strawberry's own logs every one with a traceback)."""

    def _answer(
        self, data: dict[str, Any] | None, errors: list[GraphQLError] | None, request_id: str
    ) -> ExecutionResult:
        if errors:
            self._process_errors(errors)  # strawberry's: suggestions dropped if they are off
            errors = answerable(errors, request_id)
        return ExecutionResult(data=data, errors=errors or None)


class StockSchema(strawberry.Schema):
    """strawberry's `Schema.execute` as it is, with `protection.stock_extensions`."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Each error coded and logged once, as `answerable` does (strawberry calls this before
        its masking extension hides internal errors, and instead of logging every error with a
        traceback)."""
        request_id = getattr(getattr(execution_context, "context", None), "request_id", "")
        judge(errors, request_id)
