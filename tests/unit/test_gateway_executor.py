"""The gateway's executor answers exactly as graphql-core's does, data and errors alike; it only
takes a shorter way to plain leaf fields and lists of plain objects."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import strawberry
import strawberry.extensions
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from services.gateway.execution import AccordExecutor, plain_leaf


@strawberry.type
class Row:
    name: str
    size: int | None
    must: int
    flag: bool = False

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class Query:
    @strawberry.field
    def rows(self) -> list[Row]:
        return [Row(name="a", size=1, must=1), Row(name="b", size=None, must=2, flag=True)]

    @strawberry.field
    async def later(self) -> list[Row]:
        return [Row(name="c", size=3, must=3)]

    @strawberry.field
    def broken(self) -> list[Row]:
        return [Row(name="a", size=1, must=1), Row(name="b", size=1, must=None)]  # type: ignore[arg-type]

    @strawberry.field
    def huge(self) -> list[Row]:
        return [Row(name="a", size=2**40, must=1)]

    @strawberry.field
    def maybe_rows(self) -> list[Row | None]:
        return [Row(name="a", size=1, must=1), None]

    @strawberry.field
    def one(self) -> Row:
        return Row(name="x", size=None, must=None)  # type: ignore[arg-type]

    @strawberry.field
    def missing(self) -> Row:
        return object()  # type: ignore[return-value]


QUERIES = [
    "{ rows { name size must flag } }",
    "{ rows { n: name s: size name } later { name must } }",
    "{ rows { name shout __typename } }",
    "{ rows { ...F } } fragment F on Row { name flag }",
    "{ rows { name @include(if: false) size @skip(if: false) } }",
    "{ broken { name must } }",
    "{ huge { name size } }",
    "{ maybeRows { name } }",
    "{ one { name size } }",
    "{ one { must } }",
    "{ missing { name } }",
]


def answer(executor: type[Any], query: str) -> tuple[Any, list[dict[str, Any]]]:
    schema = strawberry.Schema(query=Query, execution_context_class=executor)
    result = asyncio.run(schema.execute(query))
    errors = sorted(({"message": e.message, "path": e.path} for e in result.errors or []), key=repr)
    return result.data, errors


@pytest.mark.parametrize("query", QUERIES)
def test_the_short_path_answers_as_graphql_core_does(query: str) -> None:
    assert answer(AccordExecutor, query) == answer(StrawberryGraphQLCoreExecutionContext, query)


def test_errors_on_the_short_path_keep_graphql_cores_message_and_path() -> None:
    data, errors = answer(AccordExecutor, "{ broken { name must } }")
    assert data is None
    assert errors == [
        {
            "message": "Cannot return null for non-nullable field Row.must.",
            "path": ["broken", 1, "must"],
        }
    ]


def test_only_attribute_reads_of_scalars_take_the_short_path() -> None:
    fields = strawberry.Schema(query=Query)._schema.type_map["Row"].fields  # type: ignore[union-attr]
    assert plain_leaf(fields["name"]) is not None
    assert plain_leaf(fields["size"]) is not None
    assert plain_leaf(fields["shout"]) is None  # a resolver of its own


class Shouting(strawberry.extensions.SchemaExtension):
    """An extension that wraps every resolver, as tracing extensions do."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        value = _next(root, info, *args, **kwargs)
        return value.upper() if isinstance(value, str) else value


def test_an_extension_wrapping_every_resolver_still_sees_every_field() -> None:
    def shouted(executor: type[Any]) -> Any:
        schema = strawberry.Schema(
            query=Query, extensions=[Shouting], execution_context_class=executor
        )
        return asyncio.run(schema.execute("{ rows { name shout } }")).data

    assert shouted(AccordExecutor) == shouted(StrawberryGraphQLCoreExecutionContext)
    assert shouted(AccordExecutor) == {
        "rows": [{"name": "A", "shout": "A"}, {"name": "B", "shout": "B"}]
    }
