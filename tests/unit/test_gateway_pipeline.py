"""The gateway's operation pipeline keeps strawberry's contract for `Schema.execute`: problems
with the document come back in the result, with their codes; a missing query, an unknown
operation or an operation type the transport does not allow raise for the transport to refuse.
Stock strawberry (ACCORD_GRAPHQL_ENGINE=stock) follows the same policy: every test runs on both."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import strawberry
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from services.gateway.protection import MASKED_MESSAGE, Refused
from services.gateway.schema import Engine, engine_schema


@strawberry.type
class Query:
    @strawberry.field
    def health(self) -> str:
        return "ok"

    @strawberry.field
    def refused(self) -> str | None:
        raise Refused("FORBIDDEN", "not yours")

    @strawberry.field
    def broken(self) -> str | None:
        raise KeyError("a secret column")


@dataclass
class Context:
    request_id: str


@pytest.fixture(params=["accord", "stock"])
def engine(request: pytest.FixtureRequest) -> Engine:
    engine: Engine = request.param
    return engine


@pytest.fixture
def schema(engine: Engine) -> Callable[..., strawberry.Schema]:
    """The schema of this module's Query, run by the engine under test."""

    def build(*, introspection: bool = True, query: type = Query) -> strawberry.Schema:
        return engine_schema(engine, introspection=introspection, query=query)

    return build


async def test_an_operation_runs_and_answers_its_data(
    schema: Callable[..., strawberry.Schema],
) -> None:
    result = await schema().execute("query Named { health }", operation_name="Named")
    assert (result.data, result.errors) == ({"health": "ok"}, None)


async def test_what_the_transport_must_refuse_raises(
    schema: Callable[..., strawberry.Schema],
) -> None:
    with pytest.raises(MissingQueryError):
        await schema().execute("")
    with pytest.raises(CannotGetOperationTypeError):
        await schema().execute("query A { health } query B { health }")  # which one?
    with pytest.raises(InvalidOperationTypeError):
        await schema().execute("{ health }", allowed_operation_types=[OperationType.MUTATION])
    with pytest.raises(InvalidOperationTypeError):  # an empty set allows nothing
        await schema().execute("{ health }", allowed_operation_types=set())


async def test_document_errors_come_back_coded(schema: Callable[..., strawberry.Schema]) -> None:
    broken = await schema().execute("{ health")
    assert broken.errors and broken.errors[0].extensions == {"code": "GRAPHQL_PARSE_FAILED"}
    unknown = await schema().execute("{ healht }")
    assert unknown.errors and unknown.errors[0].extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert "Did you mean 'health'?" in unknown.errors[0].message
    # Cached validation answers the same the second time.
    again = await schema().execute("{ healht }")
    assert again.errors and again.errors[0].message == unknown.errors[0].message


async def test_without_introspection_there_are_no_suggestions_either(
    schema: Callable[..., strawberry.Schema],
) -> None:
    closed = schema(introspection=False)
    unknown = await closed.execute("{ healht }")
    assert (
        unknown.errors
        and unknown.errors[0].message == "Cannot query field 'healht' on type 'Query'."
    )
    introspected = await closed.execute("{ __schema { queryType { name } } }")
    assert introspected.data is None and introspected.errors
    assert "introspection has been disabled" in introspected.errors[0].message


async def test_internal_errors_are_masked_and_logged_with_the_request_id(
    schema: Callable[..., strawberry.Schema], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="services.gateway.protection"):
        result = await schema().execute("{ refused broken }", context_value=Context("req-7"))
    assert result.data == {"refused": None, "broken": None}
    assert result.errors is not None
    broken, refused = sorted(result.errors, key=lambda e: e.path or [])
    assert (broken.message, broken.path, broken.extensions) == (MASKED_MESSAGE, ["broken"], {})
    assert (refused.message, refused.extensions) == ("not yours", {"code": "FORBIDDEN"})
    [logged] = [r for r in caplog.records if r.name == "services.gateway.protection"]
    assert "req-7" in logged.getMessage() and logged.exc_info is not None
    assert "a secret column" in caplog.text


async def test_a_refusal_is_one_line_at_info_and_a_fault_keeps_its_traceback(
    schema: Callable[..., strawberry.Schema], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await schema().execute("{ refused broken }", context_value=Context("req-8"))
        await schema().execute("{ health", context_value=Context("req-9"))
        await schema().execute("{ healht nonsense }", context_value=Context("req-10"))
        await schema().execute("{ refused again: refused }", context_value=Context("req-11"))
    refusals = [r for r in caplog.records if r.levelno == logging.INFO]
    faults = [r for r in caplog.records if r.levelno >= logging.WARNING]
    # One request, one line: two mistakes in one document are said together.
    assert [(r.getMessage(), r.exc_info) for r in refusals] == [
        ("refused, request req-8: FORBIDDEN not yours", None),
        ("refused, request req-9: GRAPHQL_PARSE_FAILED Syntax Error: Expected Name, found <EOF>.", None),
        ("refused, request req-10: GRAPHQL_VALIDATION_FAILED Cannot query field 'healht' on type"
         " 'Query'. Did you mean 'health'?; GRAPHQL_VALIDATION_FAILED Cannot query field"
         " 'nonsense' on type 'Query'.", None),
        ("refused, request req-11: FORBIDDEN not yours", None),  # two fields, one refusal
    ]  # fmt: skip
    [fault] = faults  # strawberry's own logger no longer logs every error with a traceback
    assert "req-8" in fault.getMessage() and fault.exc_info is not None


@strawberry.type
class Counting:
    @strawberry.field
    def page(self, first: int) -> int:
        return first


async def test_a_variable_that_does_not_coerce_is_coded_as_the_same_value_written_inline(
    schema: Callable[..., strawberry.Schema],
) -> None:
    counting = schema(query=Counting)
    for value, written in [(2147483648, "2147483648"), (1.5, "1.5"), (None, "null")]:
        sent = await counting.execute("query($n: Int!) { page(first: $n) }", {"n": value})
        inline = await counting.execute(f"{{ page(first: {written}) }}")
        assert sent.errors and inline.errors
        assert (
            sent.errors[0].extensions
            == inline.errors[0].extensions
            == {"code": "GRAPHQL_VALIDATION_FAILED"}
        )
        assert sent.data is None and MASKED_MESSAGE not in sent.errors[0].message
