"""What a Kafka consumer can check on its own: each record names its predecessor's hash
(`accordprevhash`), so a record that does not follow from the one before it in its aggregate,
or that says something else at a place another record holds, is not what Accord stored; and
a signed checkpoint (accord.audit.v1) names the Merkle root of the records up to a position.

A record carrying one fact stored on several aggregates names each other stored copy's place
and hashes (`accordcopies`): each copy is checked as the stored event it stands for."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.audit import merkle
from shared.audit.chain import GENESIS
from shared.audit.checkpoint import Checkpoint
from shared.envelope import Envelope, data_bytes


@dataclass(frozen=True)
class Break:
    """A record that cannot be the one Accord stored at its place."""

    topic: str
    partition: int
    offset: int
    subject: str
    sequence: int
    reason: str


def chain_breaks(records: Iterable[Envelope]) -> list[Break]:
    """Records (read in order) whose chain attributes contradict the records before them.

    A record repeated by the relay (same id, same hash, same data) is not a break."""
    seen: dict[tuple[str, int], tuple[str, str]] = {}
    breaks: list[Break] = []
    for record in (stored for received in records for stored in received.stored_events()):
        if not record.chain_hash:
            continue  # stored before chaining: nothing to check
        place = (record.subject, record.sequence)
        digest = hashlib.sha256(data_bytes(record.data)).hexdigest()
        reason = ""
        if place in seen and seen[place] != (record.chain_hash, digest):
            reason = f"another record holds version {record.sequence} with other contents"
        elif record.sequence == 1 and record.previous_hash != GENESIS.hex():
            reason = "a first version that names a predecessor"
        elif (before := seen.get((record.subject, record.sequence - 1))) and (
            before[0] != record.previous_hash
        ):
            reason = f"its previous hash is not version {record.sequence - 1}'s hash"
        if reason:
            breaks.append(
                Break(
                    record.topic,
                    record.partition,
                    record.offset,
                    record.subject,
                    record.sequence,
                    reason,
                )
            )
            continue
        seen.setdefault(place, (record.chain_hash, digest))
    return breaks


def checkpoint_problem(
    checkpoint: Checkpoint, records: Iterable[Envelope], trusted: Sequence[Ed25519PublicKey]
) -> str | None:
    """What stops the records received from the checkpoint's service from being the log it
    signed, or None when they are: signed by a trusted key, and the Merkle root over the
    records' hashes up to `last_position`, in position order, is the signed root.

    Repeats of a record are one record; a checkpoint can arrive before the records it covers,
    so "only N of the M events" may mean: wait for the rest."""
    if not checkpoint.signed_by(trusted):
        return "the checkpoint is not signed by a trusted key"
    source = f"/accord/{checkpoint.service}"
    covered: dict[int, str] = {}
    for record in (stored for received in records for stored in received.stored_events()):
        if record.source != source or not 0 < record.position <= checkpoint.last_position:
            continue
        if covered.setdefault(record.position, record.chain_hash) != record.chain_hash:
            return f"two records claim position {record.position} with different hashes"
    if len(covered) < checkpoint.size:
        return f"only {len(covered)} of the {checkpoint.size} events it covers were received"
    if len(covered) > checkpoint.size:
        return f"{len(covered)} records claim the {checkpoint.size} places it covers"
    if not all(covered.values()):
        return "events stored before chaining carry no hash: verify with `accord audit verify`"
    leaves = [merkle.leaf_hash(bytes.fromhex(covered[p])) for p in sorted(covered)]
    if merkle.root(leaves).hex() != checkpoint.root:
        return "the records' Merkle root is not the signed root"
    return None
