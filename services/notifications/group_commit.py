"""Group commit: what is handed in while a save is under way goes into the next save.

The first outcome is saved at once; those that finish meanwhile wait only for that save, then
go together in one. Under load many sends share one insert; alone, nothing waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Hands everything pending to `save` in one call; each caller waits for its own items."""

    def __init__(self, save: Callable[[Sequence[T]], Awaitable[object]]) -> None:
        self._save = save
        self._pending: list[tuple[Sequence[T], asyncio.Future[None]]] = []
        self._saving: asyncio.Task[None] | None = None

    async def record(self, items: Sequence[T]) -> None:
        """Save the items with whatever else is pending; raises what the save raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((items, done))
        if self._saving is None or self._saving.done():
            self._saving = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        while self._pending:
            taken, self._pending = self._pending, []
            try:
                await self._save([item for items, _ in taken for item in items])
            except Exception as error:
                for _, done in taken:
                    if not done.done():
                        done.set_exception(error)
            else:
                for _, done in taken:
                    if not done.done():
                        done.set_result(None)
