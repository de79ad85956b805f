"""The projector's one handler: the audit log for every event, then the area it belongs to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from services.gateway.projections import (
    assumptions,
    audit,
    baselines,
    contracts,
    deadlines,
    delivery,
    expectations,
    obligations,
    prioritizations,
    risks,
    suspects,
)
from shared.envelope import Envelope
from shared.pending_writes import PendingWrites, Statements
from shared.projection import Batching
from shared.schemas.registry import ContractSpec

# Expectations come before delivery: a measurement reads the terms its revision recorded.
AREAS: tuple[Callable[[Statements, Envelope], Awaitable[None]], ...] = (
    contracts.apply,
    expectations.apply,
    delivery.apply,
    obligations.apply,
    risks.apply,
    prioritizations.apply,
    baselines.apply,
    suspects.apply,
    deadlines.apply,
    assumptions.apply,
)
# Whether each of AREAS has anything to do for an event of a contract.
_HANDLES: tuple[Callable[[ContractSpec], bool], ...] = (
    contracts.apply.handles,
    expectations.handles,
    delivery.apply.handles,
    obligations.apply.handles,
    risks.apply.handles,
    prioritizations.apply.handles,
    baselines.apply.handles,
    suspects.apply.handles,
    deadlines.handles,
    assumptions.apply.handles,
)


# Which areas each event type concerns, found on its first event (every event is in the
# audit log): a rebuild applies a million events, most of which concern no area at all.
_ROUTES: dict[str, tuple[Callable[[Statements, Envelope], Awaitable[None]], ...]] = {}


def _areas_of(envelope: Envelope) -> tuple[Callable[[Statements, Envelope], Awaitable[None]], ...]:
    spec = envelope.spec
    return tuple(area for area, handles in zip(AREAS, _HANDLES, strict=True) if handles(spec))


async def apply(conn: Statements, envelope: Envelope) -> None:
    """Apply one event to every read model, inside the runner's transaction."""
    await audit.record(conn, envelope)
    areas = _ROUTES.get(envelope.type)
    if areas is None:
        areas = _ROUTES[envelope.type] = _areas_of(envelope)
    for area in areas:
        await area(conn, envelope)


def order_key(envelope: Envelope) -> str:
    """Whose order an event keeps in a batch. Each elicitation aggregate (a contract with its
    people and questions, an expectation, an obligation, a risk, a lesson) writes only its own
    rows, so its stream is enough; a published ranking rewrites its whole contract's
    priorities, so ranking keeps the contract's order. Ranking and elicitation meet only on
    corporate priorities, which they get right in any order (see prioritizations.py)."""
    if envelope.spec.service == prioritizations.SERVICE:
        return f"contract:{envelope.key}"
    return f"stream:{envelope.subject}"


async def prepare(writes: PendingWrites, envelopes: Sequence[Envelope]) -> None:
    """Read once what the batch's handlers would each read."""
    await expectations.prepare(writes, envelopes)


# The same handler, a whole batch at a time (see shared/pending_writes.py).
BATCHING = Batching(
    apply=apply, order_key=order_key, prepare=prepare, unordered=frozenset({audit.INSERT})
)
