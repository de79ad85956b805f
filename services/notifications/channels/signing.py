"""Webhook signatures: HMAC-SHA256 over `timestamp.body`, and their check on the receiving side.

The timestamp is signed with the body, so a captured request cannot be replayed later with a
fresh timestamp; receivers refuse one whose timestamp is too old.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Accord-Signature"
TIMESTAMP_HEADER = "Accord-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# How old a signed request a receiver should still accept.
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>")."""
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    given: str,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: a fresh timestamp and a signature made with the shared secret."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), given)
