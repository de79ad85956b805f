"""A signed checkpoint as the event Accord publishes on `accord.audit.v1`, and back."""

from __future__ import annotations

from uuid import NAMESPACE_URL, uuid5

from shared.audit.checkpoint import Checkpoint
from shared.envelope import Envelope
from shared.schemas import registry
from shared.schemas.registry import ContractSpec

_CHECKPOINT_IDS = uuid5(NAMESPACE_URL, "urn:accord:checkpoint")


def spec() -> ContractSpec:
    return registry.latest("audit", "CheckpointSigned")


def checkpoint_id(service: str, last_position: int) -> str:
    """The event's ce_id: one position of one log is signed once, so it is published under
    one id however often it is republished."""
    return str(uuid5(_CHECKPOINT_IDS, f"{service}:{last_position}"))


def envelope(checkpoint: Checkpoint) -> Envelope:
    """The CloudEvent of a checkpoint: keyed by its service, so one log's stay in order."""
    contract = spec()
    return Envelope(
        id=checkpoint_id(checkpoint.service, checkpoint.last_position),
        type=contract.ce_type,
        source="/accord/audit",
        subject=checkpoint.service,
        time=checkpoint.issued_at,
        key=checkpoint.service,
        data=contract.to_data(checkpoint.model_dump(mode="json")),
    )


def checkpoint_of(received: Envelope) -> Checkpoint:
    """The checkpoint a received event carries; its signature is for the caller to check."""
    return Checkpoint.model_validate(received.data)
