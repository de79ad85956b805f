"""What a Kafka consumer can check on its own: each record names its predecessor's hash
(`accordprevhash`), so a record that does not follow from the one before it in its aggregate,
or that says something else at a place another record holds, is not what Accord stored."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from shared.audit.chain import GENESIS
from shared.envelope import Envelope


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
    for record in records:
        if not record.chain_hash:
            continue  # stored before chaining: nothing to check
        place = (record.subject, record.sequence)
        digest = hashlib.sha256(
            json.dumps(record.data, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
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
