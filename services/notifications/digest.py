"""When a daily digest goes out: the next digest hour (UTC) after a notice was queued."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta


def next_digest_at(now: datetime, hour: int) -> datetime:
    """The first `hour`:00 UTC strictly after now."""
    now = now.astimezone(UTC)
    slot = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return slot if slot > now else slot + timedelta(days=1)


def digest_text(subjects_and_texts: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """One digest's subject and body from the notices it gathers."""
    count = len(subjects_and_texts)
    subject = f"Your Accord digest: {count} notice{'s' if count != 1 else ''}"
    items = enumerate(subjects_and_texts, start=1)
    body = "\n\n".join(f"{n}. {title}\n{text}" for n, (title, text) in items)
    return subject, body
