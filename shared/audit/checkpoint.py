"""Signed checkpoints: a service's log summed up by its Merkle root and its streams' heads,
signed with Ed25519, so an auditor who keeps one can later prove the log still contains it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from shared.audit import merkle
from shared.audit.keys import key_id, public_bytes
from shared.audit.log import Entry

# A stream's head: its newest version and that event's hash (hex).
Heads = dict[str, tuple[int, str]]


class Checkpoint(BaseModel):
    """What one signature covers: a service's log up to `last_position`."""

    model_config = ConfigDict(frozen=True)

    service: str
    # How many events the log held up to last_position, and their Merkle root (hex).
    size: int = Field(ge=0)
    last_position: int = Field(ge=0)
    root: str
    # SHA-256 (hex) of the heads: each stream's newest version and hash at this point.
    heads_digest: str
    issued_at: datetime
    key_id: str
    # The raw Ed25519 public key (hex): check it against the key you trust, by key_id.
    public_key: str
    signature: str = ""

    def signed_bytes(self) -> bytes:
        """The canonical JSON of every field but the signature: what is signed."""
        fields = self.model_dump(mode="json", exclude={"signature"})
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def signed_by(self, trusted: Iterable[Ed25519PublicKey]) -> bool:
        """Whether one of the trusted keys made this signature over these fields."""
        for key in trusted:
            if key_id(key) != self.key_id or public_bytes(key).hex() != self.public_key:
                continue
            try:
                key.verify(bytes.fromhex(self.signature), self.signed_bytes())
            except (InvalidSignature, ValueError):
                return False
            return True
        return False

    def public(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key))


class KeptCheckpoint(BaseModel):
    """A checkpoint with the heads it names: what `accord audit checkpoint` writes."""

    checkpoint: Checkpoint
    heads: dict[str, tuple[int, str]]

    def heads_match(self) -> bool:
        return heads_digest(self.heads) == self.checkpoint.heads_digest


class CheckpointFile(BaseModel):
    """The file an auditor keeps: one checkpoint per service."""

    checkpoints: list[KeptCheckpoint]


def heads_of(entries: Iterable[Entry]) -> Heads:
    """Each stream's newest version in these entries, with its hash as recomputed."""
    heads: Heads = {}
    for entry in entries:
        known = heads.get(str(entry.originator_id))
        if known is None or entry.version > known[0]:
            heads[str(entry.originator_id)] = (entry.version, entry.computed_hash.hex())
    return heads


def heads_digest(heads: Mapping[str, tuple[int, str]]) -> str:
    text = json.dumps({k: list(v) for k, v in heads.items()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def sign(
    service: str, entries: list[Entry], key: Ed25519PrivateKey, *, now: datetime | None = None
) -> KeptCheckpoint:
    """A checkpoint over these entries (the whole log so far, in order), signed."""
    heads = heads_of(entries)
    public = key.public_key()
    unsigned = Checkpoint(
        service=service,
        size=len(entries),
        last_position=entries[-1].position if entries else 0,
        root=merkle.root([e.leaf for e in entries]).hex(),
        heads_digest=heads_digest(heads),
        issued_at=now or datetime.now(UTC),
        key_id=key_id(public),
        public_key=public_bytes(public).hex(),
    )
    signature = key.sign(unsigned.signed_bytes()).hex()
    return KeptCheckpoint(
        checkpoint=unsigned.model_copy(update={"signature": signature}), heads=heads
    )


def as_data(kept: KeptCheckpoint) -> dict[str, Any]:
    return kept.model_dump(mode="json")
