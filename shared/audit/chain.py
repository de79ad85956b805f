"""The hash that binds a stored event to its fields and to its aggregate's previous event.

This is the reference definition; Accord's recorder computes the same bytes in SQL as it
inserts (shared/recorder.py, `event_hash_sql`), and the tests hold the two to each other.
Every field is framed (fixed width, or a length before it), so no two events share an input.
"""

from __future__ import annotations

import hashlib
import struct
from uuid import UUID

# Names the scheme and its version inside every hashed input.
DOMAIN = b"accord.event.v1"
HASH_BYTES = 32
# The previous hash of an aggregate's first event, and of one whose predecessor was stored
# before events were chained.
GENESIS = bytes(HASH_BYTES)


def event_hash(
    position: int,
    originator_id: UUID,
    originator_version: int,
    topic: str,
    state: bytes,
    previous: bytes = GENESIS,
) -> bytes:
    """SHA-256 over the event's stored fields (its position in the log included) and the
    previous event's hash in its aggregate."""
    topic_bytes = topic.encode()
    return hashlib.sha256(
        b"".join(
            (
                DOMAIN,
                struct.pack(">q", position),
                originator_id.bytes,
                struct.pack(">q", originator_version),
                struct.pack(">i", len(topic_bytes)),
                topic_bytes,
                struct.pack(">i", len(state)),
                state,
                previous,
            )
        )
    ).digest()
