"""Inclusion proofs: that one event is in the log a signed checkpoint covers (RFC 9162 2.1.3)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel

from shared.audit import merkle
from shared.audit.checkpoint import Checkpoint
from shared.audit.log import Entry
from shared.event_ids import event_id


class EventNotCovered(LookupError):
    """The event is not in the log, or not in the part the checkpoint covers."""

    code = "EVENT_NOT_COVERED"


class InclusionProof(BaseModel):
    """One event's leaf, its audit path, and the signed checkpoint the path leads to."""

    event_id: str
    service: str
    position: int
    originator_id: UUID
    version: int
    # The event's hash (hex): its leaf is SHA-256(0x00 || this).
    event_hash: str
    leaf_index: int
    path: list[str]
    checkpoint: Checkpoint


def prove(entries: Sequence[Entry], checkpoint: Checkpoint, wanted: str) -> InclusionProof:
    """The proof that the event with ce_id `wanted` is in the log `checkpoint` covers."""
    covered = [e for e in entries if e.position <= checkpoint.last_position]
    ids = [event_id(e.originator_id, e.version) for e in covered]
    if wanted not in ids:
        raise EventNotCovered(
            f"event {wanted} is not among the {len(covered)} events of {checkpoint.service}"
            f" up to position {checkpoint.last_position}"
        )
    index = ids.index(wanted)
    entry = covered[index]
    leaves = [e.leaf for e in covered]
    return InclusionProof(
        event_id=wanted,
        service=checkpoint.service,
        position=entry.position,
        originator_id=entry.originator_id,
        version=entry.version,
        event_hash=entry.computed_hash.hex(),
        leaf_index=index,
        path=[h.hex() for h in merkle.inclusion_proof(index, leaves)],
        checkpoint=checkpoint,
    )


def problem(proof: InclusionProof, trusted: Sequence[Ed25519PublicKey]) -> str | None:
    """What is wrong with the proof, or None when it holds: the checkpoint is signed by a
    trusted key and the path leads from the event's leaf to its root."""
    checkpoint = proof.checkpoint
    if not checkpoint.signed_by(trusted):
        return "the checkpoint is not signed by a trusted key"
    if proof.event_id != event_id(proof.originator_id, proof.version):
        return "the event id does not name this stream's version"
    try:
        reached = merkle.root_from_inclusion(
            proof.leaf_index,
            checkpoint.size,
            merkle.leaf_hash(bytes.fromhex(proof.event_hash)),
            [bytes.fromhex(h) for h in proof.path],
        )
    except ValueError as wrong:
        return f"the path does not fit the tree: {wrong}"
    if reached.hex() != checkpoint.root:
        return "the path does not lead to the checkpoint's root"
    return None
