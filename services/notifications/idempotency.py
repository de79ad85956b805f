"""Deterministic ids: the same source, recipient and channel always name the same notice.

A redelivered Kafka message, a restart or a replay computes the same id again; saving an
aggregate under an id that already exists fails, and that failure means "already done".
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import NAMESPACE_URL, UUID, uuid5

NAMESPACE = uuid5(NAMESPACE_URL, "urn:accord:notifications")


def idempotency_key(source_id: str, person_id: str, channel: str) -> str:
    """The notice's key: what it is about (an event or a reminder) x who x how."""
    return f"{source_id}:{person_id}:{channel}"


def notice_id_of(key: str) -> UUID:
    """The Notice aggregate's id, like eventsourcing's `create_id`: a function of the key."""
    return uuid5(NAMESPACE, f"notice:{key}")


def notice_set_id(source_id: str) -> UUID:
    """The NoticeSet aggregate's id: one set of notices per source (an event or a reminder)."""
    return uuid5(NAMESPACE, f"notices:{source_id}")


def reminder_id_of(obligation_id: str, kind: str, sequence: int) -> UUID:
    return uuid5(NAMESPACE, f"reminder:{obligation_id}:{kind}:{sequence}")


def digest_key(keys: Iterable[str]) -> str:
    """One digest's key: the same notices make the same key, so a resent digest is recognised."""
    return str(uuid5(NAMESPACE, "digest:" + "|".join(sorted(keys))))
