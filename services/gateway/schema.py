"""The GraphQL schema front-end teams and auditors use; exported to docs/schema.graphql."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import strawberry
from pydantic import AwareDatetime
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
from strawberry.tools import merge_types
from strawberry.types.arguments import StrawberryArgument

from services.gateway.baselines import BaselineQueries
from services.gateway.execution import AccordExecutor
from services.gateway.health import HealthQueries
from services.gateway.mutations import Mutation
from services.gateway.notifications import (
    DURATION,
    NotificationQueries,
    NotificationSubscriptions,
)
from services.gateway.numbers import DECIMAL
from services.gateway.pipeline import AccordSchema, StockSchema
from services.gateway.protection import extensions, stock_extensions
from services.gateway.queries import Query as Reads
from services.gateway.subscriptions import Subscription
from services.gateway.suspects import SuspectQueries

Engine = Literal["accord", "stock"]

# Command bodies hold ids as UUIDs; GraphQL shows every id as ID, and the body model refuses
# one that is not a UUID (ID_INVALID) with the rest of the input's problems.
# An instant must carry its offset (AwareDatetime): GraphQL's DateTime.
# A duration (a reminder's interval) is ISO 8601 text; the body model parses it.
# A decimal is written out in full (40000, not 4E+4), whatever exponent it was read with.
SCALARS: dict[object, Any] = {
    UUID: DEFAULT_SCALAR_REGISTRY[strawberry.ID],
    AwareDatetime: DEFAULT_SCALAR_REGISTRY[datetime],
    timedelta: DURATION,
    Decimal: DECIMAL,
}

SDL_FILE = Path(__file__).resolve().parents[2] / "docs" / "schema.graphql"


def accord_version() -> str:
    try:
        return package_version("accord")
    except PackageNotFoundError:
        return "0.0.0+unknown"


@strawberry.type
class Query(Reads, NotificationQueries, BaselineQueries, SuspectQueries, HealthQueries):
    @strawberry.field(description="'ok' while the gateway can answer (needs no token).")
    def health(self) -> str:
        return "ok"

    @strawberry.field(description="The running Accord version.")
    def version(self) -> str:
        return accord_version()


class ArgumentNames(NameConverter):
    """strawberry's names, each argument's worked out once: strawberry asks again on every call
    of every resolver that takes arguments."""

    def __init__(self) -> None:
        super().__init__()
        self._arguments: dict[int, tuple[StrawberryArgument, str]] = {}

    def from_argument(self, argument: StrawberryArgument) -> str:
        known = self._arguments.get(id(argument))
        if known is None or known[0] is not argument:
            known = self._arguments[id(argument)] = (argument, super().from_argument(argument))
        return known[1]


def build_schema(*, introspection: bool = True, engine: Engine = "accord") -> strawberry.Schema:
    """The gateway's schema, run by the engine named (ACCORD_GRAPHQL_ENGINE)."""
    return engine_schema(
        engine,
        introspection=introspection,
        query=Query,
        mutation=Mutation,
        subscription=merge_types("Subscription", (Subscription, NotificationSubscriptions)),
    )


def engine_schema(engine: Engine, *, introspection: bool, **types: Any) -> strawberry.Schema:
    """A schema of `types` run by the gateway's pipeline and executor ("accord") or by stock
    strawberry ("stock"), under the same policy; without introspection, field suggestions are
    off too (they leak names)."""
    if engine == "stock":
        return StockSchema(
            **types,
            scalar_overrides=SCALARS,
            extensions=stock_extensions(introspection=introspection),
            config=StrawberryConfig(disable_field_suggestions=not introspection),
        )
    return AccordSchema(
        **types,
        scalar_overrides=SCALARS,
        extensions=extensions(introspection=introspection),
        config=StrawberryConfig(
            disable_field_suggestions=not introspection, name_converter=ArgumentNames()
        ),
        execution_context_class=AccordExecutor,
        introspection=introspection,
    )


schema = build_schema()


def sdl() -> str:
    return schema.as_str() + "\n"
