"""One message on its way out, whatever the channel, and the one way a send fails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class DeliveryFailed(Exception):
    """A send that did not reach the person; `reason` is what the record will say."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Outgoing:
    """A notice (or a digest of several): its key lets the receiver drop a repeat."""

    key: str
    # The notice's id, or the digest's: the email's Message-ID is made of it.
    message_id: str
    contract_id: str
    person_id: str
    subject: str
    text: str
    # The webhook's JSON body.
    payload: Mapping[str, Any]
