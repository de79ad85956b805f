"""A batch's writes kept back and run as a few `executemany` calls instead of one by one; a
big group of plain inserts loaded with COPY."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from shared.database import Connection

# An insert COPY can load: parameters in order into named columns, nothing computed, a jsonb
# cast only (checked against the column). With `ON CONFLICT ... DO NOTHING` only for an
# append-only log's insert (an `unordered` one), where a conflict means an event applied
# twice: COPY fails where the insert would skip the row, and the caller's transaction is lost
# (the projection runner then applies the batch again, one event at a time, with the insert).
_COPYABLE = re.compile(
    r"INSERT INTO (?P<table>\w+) \((?P<columns>[\w\s,\"]+)\)"
    r" VALUES \((?P<values>[$\d\s,:a-z]+)\)(?P<skips> ON CONFLICT (?:\([\w\s,]+\) )?DO NOTHING)?"
)
_VALUE = re.compile(r"\$(?P<number>\d+)(?P<cast>::jsonb)?")


@dataclass(frozen=True)
class CopyInto:
    """Where COPY puts an insert's rows: the table, and its columns in parameter order."""

    table: str
    columns: tuple[str, ...]
    # The columns the insert casts its parameter to jsonb: COPY checks they are jsonb.
    jsonb: tuple[str, ...]
    # Whether the insert skips a row that conflicts (COPY fails on it).
    skips_conflicts: bool = False


def copy_into(sql: str) -> CopyInto | None:
    """How COPY loads what `sql` inserts, or None if it cannot load it the same."""
    found = _COPYABLE.fullmatch(" ".join(sql.split()))
    if found is None:
        return None
    columns = tuple(c.strip().strip('"') for c in found["columns"].split(","))
    values = [_VALUE.fullmatch(v.strip()) for v in found["values"].split(",")]
    if len(values) != len(columns) or any(
        v is None or int(v["number"]) != place for place, v in enumerate(values, start=1)
    ):
        return None
    jsonb = tuple(c for c, v in zip(columns, values, strict=True) if v is not None and v["cast"])
    return CopyInto(found["table"], columns, jsonb, skips_conflicts=bool(found["skips"]))


async def write_row(conn: Statements, key: str, sql: str, *args: Any) -> None:
    """An upsert of a whole row by `key`: a batch's pending writes keep only its latest
    parameters (see PendingWrites.keep_latest); a connection executes it."""
    if isinstance(conn, PendingWrites):
        conn.keep_latest(key, sql, args)
    else:
        await conn.execute(sql, *args)


class Statements(Protocol):
    """What read-model handlers call: a connection, or a batch's pending writes."""

    async def execute(self, query: str, *args: Any) -> Any: ...

    async def executemany(self, command: str, args: Iterable[Sequence[Any]]) -> Any: ...

    async def fetch(self, query: str, *args: Any) -> Any: ...

    async def fetchrow(self, query: str, *args: Any) -> Any: ...

    async def fetchval(self, query: str, *args: Any) -> Any: ...


# What each insert seen so far copies into (None: it cannot be copied).
_COPY_INTO: dict[str, CopyInto | None] = {}


class PendingWrites:
    """The writes of a batch of events, grouped by statement wherever order allows.

    Each event's statements keep their order, and so do all statements of one ordering key
    (a stream: what one event writes, a later one of the same stream may read or overwrite).
    A statement joins the earliest group of the same SQL that runs after everything its key
    wrote before, so events of different keys, which touch different rows, share groups.
    Statements in `unordered` (an append-only log's insert, touching no row but its own) join
    the first group of their SQL. A read runs everything kept back first, so it sees it all.
    """

    def __init__(
        self, conn: Connection, *, unordered: frozenset[str] = frozenset(), copy_from: int = 0
    ) -> None:
        self._conn = conn
        self._unordered = unordered
        # A group of at least this many rows of an insert COPY can load is copied (0: never):
        # one stream of rows rather than a statement executed per row.
        self._copy_from = copy_from
        self._groups: list[tuple[str, list[Sequence[Any]]]] = []
        self._group_of: dict[str, list[int]] = {}
        self._after_key: dict[str, int] = {}
        self._key = ""
        self._floor = 0
        # Where the row kept back for each (statement, key) of `keep_latest` is.
        self._latest: dict[tuple[str, str], tuple[int, int]] = {}
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

    def keep_latest(self, key: str, sql: str, args: Sequence[Any]) -> None:
        """An upsert of a whole row by `key`: once per key until the next flush, with the
        latest parameters, in the place of the first (rows of one key set the same values in
        any column the insert sets and the update leaves, and no statement of the batch reads
        the row in between)."""
        found = self._latest.get((sql, key))
        if found is None:
            self._latest[(sql, key)] = self._keep(sql, args)
            return
        group, row = found
        self._groups[group][1][row] = args

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
        self._latest.clear()
        self._floor = 0
        for sql, rows in groups:
            if len(rows) == 1:
                await self._conn.execute(sql, *rows[0])
            elif (
                self._copy_from
                and len(rows) >= self._copy_from
                and (target := await self._copy_target(sql))
            ):
                await self._conn.copy_records_to_table(
                    target.table, records=rows, columns=target.columns
                )
            else:
                await self._conn.executemany(sql, rows)

    async def _copy_target(self, sql: str) -> CopyInto | None:
        """Where COPY loads `sql`'s rows as the insert would, if it can (the SQL's form and its
        jsonb columns are checked once)."""
        if sql not in _COPY_INTO:
            target = copy_into(sql)
            if target is not None and target.jsonb:
                quoted = ", ".join(f'"{c}"' for c in target.jsonb)
                found = await self._conn.prepare(f'SELECT {quoted} FROM "{target.table}" LIMIT 0')
                if any(a.type.name != "jsonb" for a in found.get_attributes()):
                    target = None  # a cast COPY would not make: the insert stays
            _COPY_INTO[sql] = target
        target = _COPY_INTO[sql]
        if target is not None and target.skips_conflicts and sql not in self._unordered:
            return None  # two events may mean to insert one row: only the insert skips it
        return target

    def _keep(self, sql: str, args: Sequence[Any]) -> tuple[int, int]:
        """Keep the statement back; where it went (its group, and its row there)."""
        groups = self._group_of.setdefault(sql, [])
        floor = 0 if sql in self._unordered else self._floor
        place = bisect.bisect_left(groups, floor)
        if place < len(groups):
            index = groups[place]
        else:
            index = len(self._groups)
            self._groups.append((sql, []))
            groups.append(index)
        rows = self._groups[index][1]
        rows.append(args)
        if sql not in self._unordered:
            self._floor = index
        return index, len(rows) - 1
