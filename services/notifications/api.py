"""The notifications service's HTTP endpoints; its commands arrive with its issue."""

from __future__ import annotations

from starlette.applications import Starlette

from shared.bus import Bus
from shared.health import health_routes
from shared.settings import Settings

SERVICE = "notifications"


def create_app(settings: Settings, bus: Bus) -> Starlette:
    """The service's Starlette app: health only until its domain lands."""
    return Starlette(routes=health_routes({}))
