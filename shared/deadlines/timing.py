"""When a dated promise's warnings fall due: pure arithmetic on instants, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

# The deadline itself, as a threshold: the warning raised at it is DeadlineMissed.
MISSED = 100
DEFAULT_THRESHOLDS = (50, 75)
_WARNING_IDS = uuid5(NAMESPACE_URL, "urn:accord:deadline-warning")


class DeadlineKind(StrEnum):
    """The dated promises Accord watches."""

    OBLIGATION = "obligation"
    RECOVERY_STEP = "recovery_step"
    EXPECTATION = "expectation"
    RISK_ACKNOWLEDGEMENT = "risk_acknowledgement"
    PRIORITIZATION = "prioritization"


class DeadlineState(StrEnum):
    """Where a dated promise stands against its deadline."""

    ON_TRACK = "on_track"
    APPROACHING = "approaching"
    MISSED = "missed"
    STOPPED = "stopped"


def due_at_end_of(day: date) -> datetime:
    """A promise due on a day is kept if kept by the end of that day (UTC)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def instant(starts_at: datetime, due_at: datetime, threshold: int) -> datetime:
    """The instant `threshold` percent of the time from start to due has passed."""
    return starts_at + (due_at - starts_at) * threshold / 100


def schedule(thresholds: Iterable[int]) -> list[int]:
    """The contract's thresholds, ascending, each once, then the deadline itself."""
    return [*sorted({t for t in thresholds if 0 < t < MISSED}), MISSED]


def next_warning(
    starts_at: datetime, due_at: datetime, thresholds: Sequence[int], passed: Iterable[int]
) -> tuple[int, datetime] | None:
    """The next threshold still to come after those already passed, and when it falls due."""
    done = max(passed, default=0)
    for threshold in schedule(thresholds):
        if threshold > done:
            return threshold, instant(starts_at, due_at, threshold)
    return None


def due_warning(
    starts_at: datetime,
    due_at: datetime,
    thresholds: Sequence[int],
    passed: Iterable[int],
    now: datetime,
) -> int | None:
    """The threshold to raise now: the latest one whose instant has come. Earlier ones it
    overtook (a worker down for a while) are not raised late: a 50% warning after the 75% one
    would only be noise."""
    done = max(passed, default=0)
    due = [t for t in schedule(thresholds) if t > done and instant(starts_at, due_at, t) <= now]
    return due[-1] if due else None


def warning_id(kind: str, item_id: UUID, step: int, due_at: datetime, threshold: int) -> UUID:
    """One warning's id: the same in every process, so a second raising of it is a second
    creation of one stream, which the event store refuses. A new deadline has new warnings."""
    key = f"{kind}:{item_id}:{step}:{due_at.astimezone(UTC).isoformat()}:{threshold}"
    return uuid5(_WARNING_IDS, key)
