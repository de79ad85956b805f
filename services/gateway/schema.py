"""The GraphQL schema front-end teams and auditors use."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

import strawberry


def accord_version() -> str:
    try:
        return package_version("accord")
    except PackageNotFoundError:
        return "0.0.0+unknown"


@strawberry.type
class Query:
    @strawberry.field(description="'ok' while the gateway can answer.")
    def health(self) -> str:
        return "ok"

    @strawberry.field(description="The running Accord version.")
    def version(self) -> str:
        return accord_version()


schema = strawberry.Schema(query=Query)
