"""The stable id of a stored event (its CloudEvents ce_id), made from its aggregate and
version: the same every time it is published, so consumers and auditors can find it again."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

# The namespace every event id is made in (services/gateway/stored_events.py hashes it too).
NAMESPACE = uuid5(NAMESPACE_URL, "urn:accord:event")


def event_id(originator_id: UUID, originator_version: int) -> str:
    """The event's stable id (ce_id): the same every time it is published."""
    return str(uuid5(NAMESPACE, f"{originator_id}:{originator_version}"))
