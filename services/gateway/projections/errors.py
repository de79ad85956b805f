"""Why an event cannot be applied to the read models (the runner dead-letters it, with this)."""

from __future__ import annotations


class UnplaceableEvent(ValueError):
    """An event the read model cannot place: its aggregate never started here, or a version
    of it repeats. Applying it anyway would make the history lie, so it is dead-lettered."""
