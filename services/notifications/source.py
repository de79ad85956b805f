"""What a notice is about: a published event, or a reminder that came due."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SourceEvent:
    """Its id makes notices idempotent; its name and data say what happened."""

    id: str
    name: str
    time: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
