"""The processes of the distributed mode, by name: what `accord serve` takes. Apart from
accord.processes, which builds them, so that the command line knows them without importing
every service."""

from __future__ import annotations

from enum import StrEnum


class Process(StrEnum):
    elicitation = "elicitation"
    ranking = "ranking"
    notifications = "notifications"
    gateway = "gateway"
    projector = "projector"
