"""Which app each process serves: the one place that knows every service."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from starlette.applications import Starlette

from services.elicitation import api as elicitation
from services.gateway import app as gateway
from services.gateway import projector_app as projector
from services.notifications import api as notifications
from services.ranking import api as ranking
from shared.bus import Bus
from shared.settings import Settings
from shared.telemetry import instrument_app


class Process(StrEnum):
    elicitation = "elicitation"
    ranking = "ranking"
    notifications = "notifications"
    gateway = "gateway"
    projector = "projector"


FACTORIES: dict[Process, Callable[[Settings, Bus], Starlette]] = {
    Process.elicitation: elicitation.create_app,
    Process.ranking: ranking.create_app,
    Process.notifications: notifications.create_app,
    Process.gateway: gateway.create_app,
    Process.projector: projector.create_app,
}


def create_app(process: Process, settings: Settings, bus: Bus) -> Starlette:
    app = FACTORIES[process](settings, bus)
    instrument_app(app)
    return app
