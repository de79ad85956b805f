"""The gateway process: GraphQL over HTTP, plus health."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

from services.gateway.schema import schema
from shared.bus import Bus
from shared.health import health_routes
from shared.settings import Settings


def create_app(settings: Settings, bus: Bus) -> Starlette:
    graphql = GraphQL(schema)
    routes = [*health_routes({}), Route("/graphql", graphql, methods=["GET", "POST"])]
    return Starlette(routes=routes)
