"""What every command answers: the aggregate, its new version, and where its events landed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Recording


@dataclass(frozen=True)
class CommandResult:
    """A command's outcome; the gateway waits for its read model to reach `positions`."""

    id: UUID
    version: int
    # Notification ids of the stored events, in the service's log: empty when nothing changed.
    positions: tuple[int, ...]
    # What the command created inside the aggregate (a question, a measurement...), if anything.
    created: UUID | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["id"] = str(self.id)
        data["positions"] = list(self.positions)
        data["created"] = None if self.created is None else str(self.created)
        return data


def command_result(
    aggregate_id: UUID,
    version: int,
    recordings: Sequence[Recording[UUID]],
    created: UUID | None = None,
) -> CommandResult:
    positions = tuple(recording.notification.id for recording in recordings)
    return CommandResult(aggregate_id, version, positions, created)
