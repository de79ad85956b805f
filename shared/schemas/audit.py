"""Published audit events, on `accord.audit.v1`: each service's log signed into a checkpoint."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.schemas.registry import EventContract, contract

SERVICE = "audit"

# A real signature, by the key whose private bytes are 0x00..0x1f: the example verifies.
_EXAMPLE = {
    "service": "elicitation",
    "size": 3,
    "last_position": 2199024304130,
    "root": "9f" * 32,
    "heads_digest": "3c" * 32,
    "issued_at": "2025-01-15T09:45:00Z",
    "key_id": "56475aa75463474c",
    "public_key": "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
    "signature": "ad2d563aed9fe79b6b4b43489359960e96b42bb59613ad6dc948df8c34d7ad69"
    "848e8a19c89880fdc82c7ba34fec8b0b4bbf94f9bd2ef855d10fab6f0d4c9c09",
}


@contract(SERVICE, "CheckpointSigned", example=_EXAMPLE)
class CheckpointSignedV1(EventContract):
    """A service's log was signed: the Merkle root (RFC 6962) over its first `size` events,
    in log order up to `last_position`, signed with Ed25519. The signature covers the canonical
    JSON of every other field (keys sorted, no whitespace); check it with the public key Accord
    publishes (GET /audit/public-key, `accord audit key`), then the root against the
    `ce_accordhash` of the records you received from the service's topic, ordered by
    `ce_accordposition`."""

    service: str = Field(description="The service whose log is covered (its topic's name).")
    size: int = Field(ge=0, description="How many events the log held up to last_position.")
    last_position: int = Field(ge=0, description="The newest covered event's ce_accordposition.")
    root: str = Field(
        pattern="^[0-9a-f]{64}$",
        description="Merkle root (hex) over leaves SHA-256(0x00 || ce_accordhash bytes).",
    )
    heads_digest: str = Field(
        pattern="^[0-9a-f]{64}$",
        description="SHA-256 (hex) of each stream's newest version and hash at this point.",
    )
    issued_at: datetime = Field(description="When it was signed (RFC 3339, UTC).")
    key_id: str = Field(description="The first 16 hex digits of the public key's SHA-256.")
    public_key: str = Field(
        pattern="^[0-9a-f]{64}$",
        description="The raw Ed25519 public key (hex): trust it only if it is the one published.",
    )
    signature: str = Field(
        pattern="^[0-9a-f]{128}$", description="Ed25519 signature (hex) over the other fields."
    )
