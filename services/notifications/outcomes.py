"""What became of an attempt to send a notice, and which record holds that notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID


class NoticeRef(NamedTuple):
    """A notice and the aggregate that records it: its NoticeSet, or (queued before v2) the
    notice itself, whose record id is then its own id."""

    record_id: UUID
    notice_id: UUID

    @classmethod
    def of(cls, notice_id: UUID, record_id: UUID | None = None) -> NoticeRef:
        return cls(record_id or notice_id, notice_id)

    @property
    def own_record(self) -> bool:
        """Queued before v2: a Notice aggregate of its own."""
        return self.record_id == self.notice_id


# Where an in-app notice goes: the app itself lists it to its person.
IN_APP_ADDRESS = "in-app"


@dataclass(frozen=True)
class Delivered:
    """It reached its person (a digest carried it when `digest_key` is set)."""

    ref: NoticeRef
    address: str
    digest_key: str = ""


@dataclass(frozen=True)
class Failed:
    """An attempt failed; the next one is due `retry_in` after `now`, if any is left."""

    ref: NoticeRef
    reason: str
    address: str
    now: datetime
    retry_in: timedelta
    max_attempts: int


Outcome = Delivered | Failed
