"""A batch's writes kept back and run as a few `executemany` calls instead of one by one."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from shared.database import Connection


class Statements(Protocol):
    """What read-model handlers call: a connection, or a batch's pending writes."""

    async def execute(self, query: str, *args: Any) -> Any: ...

    async def executemany(self, command: str, args: Iterable[Sequence[Any]]) -> Any: ...

    async def fetch(self, query: str, *args: Any) -> Any: ...

    async def fetchrow(self, query: str, *args: Any) -> Any: ...

    async def fetchval(self, query: str, *args: Any) -> Any: ...


class PendingWrites:
    """The writes of a batch of events, grouped by statement wherever order allows.

    Each event's statements keep their order, and so do all statements of one ordering key
    (a stream: what one event writes, a later one of the same stream may read or overwrite).
    A statement joins the earliest group of the same SQL that runs after everything its key
    wrote before, so events of different keys, which touch different rows, share groups.
    Statements in `unordered` (an append-only log's insert, touching no row but its own) join
    the first group of their SQL. A read runs everything kept back first, so it sees it all.
    """

    def __init__(self, conn: Connection, *, unordered: frozenset[str] = frozenset()) -> None:
        self._conn = conn
        self._unordered = unordered
        self._groups: list[tuple[str, list[Sequence[Any]]]] = []
        self._group_of: dict[str, list[int]] = {}
        self._after_key: dict[str, int] = {}
        self._key = ""
        self._floor = 0
        # What handlers keep for the rest of the batch (read once, then known).
        self.memo: dict[str, Any] = {}

    def begin(self, key: str) -> None:
        """The next statements are one event's, of stream `key`."""
        self._key = key
        self._floor = self._after_key.get(key, 0)

    def end(self) -> None:
        """The event's statements are all in: its stream's next ones come after them."""
        self._after_key[self._key] = self._floor

    async def execute(self, query: str, *args: Any) -> str:
        self._keep(query, args)
        return ""

    async def executemany(self, command: str, args: Iterable[Sequence[Any]]) -> None:
        for one in args:
            self._keep(command, one)

    async def fetch(self, query: str, *args: Any) -> Any:
        await self.flush()
        return await self._conn.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> Any:
        await self.flush()
        return await self._conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        await self.flush()
        return await self._conn.fetchval(query, *args)

    @property
    def statements(self) -> int:
        """How many calls `flush` will make."""
        return len(self._groups)

    async def flush(self) -> None:
        """Run every statement kept back, group by group."""
        groups, self._groups = self._groups, []
        self._group_of.clear()
        self._after_key.clear()
        self._floor = 0
        for sql, rows in groups:
            if len(rows) == 1:
                await self._conn.execute(sql, *rows[0])
            else:
                await self._conn.executemany(sql, rows)

    def _keep(self, sql: str, args: Sequence[Any]) -> None:
        groups = self._group_of.setdefault(sql, [])
        floor = 0 if sql in self._unordered else self._floor
        place = bisect.bisect_left(groups, floor)
        if place < len(groups):
            index = groups[place]
        else:
            index = len(self._groups)
            self._groups.append((sql, []))
            groups.append(index)
        self._groups[index][1].append(args)
        if sql not in self._unordered:
            self._floor = index
