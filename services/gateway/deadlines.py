"""Each dated promise's deadline in GraphQL: when it is due, the time left, and where it stands
(on track, approaching at a threshold, missed, stopped), from the warnings the services raised
(projections/deadlines.py) and the item's own state.

The services decide when a warning is due and raise it once; the gateway only shows what they
raised. Its one rule of its own is the due instant of an item not yet warned of, which it takes
from the same functions the services use (shared/deadlines/timing.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import strawberry
from pydantic import TypeAdapter
from strawberry.types import Info

from services.gateway.context import GatewayContext
from services.gateway.loading import Loaded, load
from shared.deadlines.timing import DeadlineKind, DeadlineState, due_at_end_of

DeadlineStateEnum = strawberry.enum(
    DeadlineState,
    name="DeadlineState",
    description="Where a dated promise stands against its deadline: ON_TRACK (no warning yet),"
    " APPROACHING (a threshold of its time passed while it was open), MISSED (its deadline"
    " passed while it was open), STOPPED (kept, withdrawn or decided before its deadline).",
)
DeadlineKindEnum = strawberry.enum(
    DeadlineKind, name="DeadlineKind", description="The kinds of dated promise Accord watches."
)

DESCRIPTION = (
    "Its deadline: when it is due, the time left and where it stands; null when it has none."
)
_DURATION = TypeAdapter(timedelta)
T = TypeVar("T")


async def _loaded(relation: Loaded[T]) -> list[T]:
    return relation if isinstance(relation, list) else await relation


@strawberry.type(description="A dated promise against its deadline.")
class Deadline:
    kind: DeadlineKind
    due_at: datetime = strawberry.field(description="The instant it is due.")
    state: DeadlineState
    threshold: int | None = strawberry.field(
        description="While APPROACHING: the highest threshold passed (percent of its time)."
    )
    time_left: timedelta = strawberry.field(
        description="From now until it is due; zero once the deadline passed."
    )
    owner: str | None = strawberry.field(
        description="Who the warnings went to (the promise's owner); null before any warning."
    )


async def warnings_of(pool: asyncpg.Pool, keys: Sequence[str]) -> list[list[Any]]:
    """The warnings raised for each `item_id:step`, for every deadline it had."""
    rows = await pool.fetch(
        "SELECT * FROM deadline_warnings WHERE item_id || ':' || step = ANY($1::text[])",
        list(keys),
    )
    found: dict[str, list[Any]] = {key: [] for key in keys}
    for row in rows:
        found[f"{row['item_id']}:{row['step']}"].append(row)
    return [found[key] for key in keys]


async def windows_of(pool: asyncpg.Pool, keys: Sequence[str]) -> list[list[str]]:
    """Each contract's risk acknowledgement window (ISO 8601), if it set a policy."""
    rows = await pool.fetch(
        "SELECT contract_id, acknowledgement_window FROM deadline_policies"
        " WHERE contract_id = ANY($1::text[])",
        list(keys),
    )
    found = {row["contract_id"]: row["acknowledgement_window"] for row in rows}
    return [[found[key]] if key in found else [] for key in keys]


async def deadline(
    info: Info[GatewayContext, None],
    kind: DeadlineKind,
    item_id: str,
    due_at: datetime | None,
    *,
    open: bool,
    step: int = 0,
) -> Deadline | None:
    """The item's deadline (`due_at` as the item now says), `open` while it can still be kept."""
    if due_at is None:
        return None
    try:
        warned = await _loaded(load(info, warnings_of, f"{item_id}:{step}"))
    except LookupError:  # an answer as of a past instant: warnings are shown only as they are now
        return None
    # A new due date (new terms) starts afresh: only the current deadline's warnings count.
    current = [w for w in warned if w["due_at"] == due_at]
    missed = any(w["missed"] for w in current)
    threshold = max((w["threshold"] or 0 for w in current), default=0) or None
    if missed:
        state = DeadlineState.MISSED
    elif not open:
        state = DeadlineState.STOPPED
    elif threshold:
        state = DeadlineState.APPROACHING
    else:
        state = DeadlineState.ON_TRACK
    return Deadline(
        kind=kind,
        due_at=due_at,
        state=state,
        threshold=threshold if state is DeadlineState.APPROACHING else None,
        time_left=max(due_at - datetime.now(UTC), timedelta(0)),
        owner=current[0]["owner"] if current else None,
    )


def end_of(day: date | str | None) -> datetime | None:
    """A promise due on a day is due at that day's end (UTC), as the services count it."""
    if day is None:
        return None
    return due_at_end_of(day if isinstance(day, date) else date.fromisoformat(day))


async def acknowledgement_due(
    info: Info[GatewayContext, None], contract_id: str, disclosed_at: datetime
) -> datetime | None:
    """When a disclosed risk's acknowledgement is due, by its contract's policy."""
    try:
        window = await _loaded(load(info, windows_of, contract_id))
    except LookupError:
        return None
    if window:
        return disclosed_at + _DURATION.validate_python(window[0])
    return disclosed_at + timedelta(hours=info.context.settings.risk_acknowledgement_hours)
