"""A service's stored log as an auditor reads it: every final event, its stored hash and the
hash recomputed from its fields, in the log's global order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from psycopg.sql import SQL, Composable, Identifier, Literal

from shared.audit.chain import GENESIS, event_hash
from shared.audit.merkle import leaf_hash
from shared.recorder import bound_statement, read_bound


@dataclass(frozen=True)
class Entry:
    """One stored event, as the verifier sees it."""

    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes = field(repr=False)
    # What the recorder stored (None: written before chaining, or by the stock recorder).
    stored_hash: bytes | None
    # The previous version's stored hash, as stored now (None: none, or unchained).
    previous_hash: bytes | None
    # The hash of the fields as they are now.
    computed_hash: bytes
    contract_id: str

    @property
    def leaf(self) -> bytes:
        """Its leaf in the service's Merkle tree."""
        return leaf_hash(self.computed_hash)


def events_table(service: str) -> tuple[str, str]:
    """The schema and table of a service's events (its Application is named after it)."""
    return service, f"{service}_events"


def exists(conn: psycopg.Connection[Any], schema: str, table: str) -> bool:
    found = conn.execute("SELECT to_regclass(%s)", (f'"{schema}"."{table}"',)).fetchone()
    return found is not None and found[0] is not None


def _columns(conn: psycopg.Connection[Any], schema: str, table: str) -> set[str]:
    return {
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        )
    }


def _finished(
    conn: psycopg.Connection[Any], columns: set[str], schema: str, table: str
) -> Composable:
    """Events no writer to the table still writes below: the log up to them never changes
    again (the bound Accord's recorder gives its own readers: shared/recorder.py). Rows of the
    library's recorder, written under a table lock, are all final."""
    if "xact_id" not in columns:
        return SQL("true")
    row = conn.execute(bound_statement(schema, table).encode()).fetchone()
    assert row is not None
    bound = read_bound(row[0], row[1])
    return SQL("e.xact_id < {}::xid8").format(Literal(str(bound)))


def last_position(conn: psycopg.Connection[Any], schema: str, table: str) -> int:
    """The newest final event's position (0: none), read from the end of the log only."""
    name = SQL("{}.{}").format(Identifier(schema), Identifier(table))
    finished = _finished(conn, _columns(conn, schema, table), schema, table)
    statement = SQL(
        "SELECT e.notification_id FROM {name} AS e WHERE {finished}"
        " ORDER BY e.notification_id DESC LIMIT 1"
    ).format(name=name, finished=finished)
    row = conn.execute(statement).fetchone()
    return int(row[0]) if row else 0


def read(
    conn: psycopg.Connection[Any], schema: str, table: str, *, after: int = 0
) -> Iterator[Entry]:
    """The final events (no writer to the table still writes below them) past position
    `after`, in notification order."""
    columns = _columns(conn, schema, table)
    name = SQL("{}.{}").format(Identifier(schema), Identifier(table))
    finished = _finished(conn, columns, schema, table)
    hashes = SQL(
        "e.hash AS stored, (SELECT p.hash FROM {name} AS p"
        " WHERE p.originator_id = e.originator_id"
        " AND p.originator_version = e.originator_version - 1) AS previous"
        if "hash" in columns
        else "NULL::bytea AS stored, NULL::bytea AS previous"
    ).format(name=name)
    statement = SQL(
        "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state,"
        " {hashes} FROM {name} AS e WHERE {finished} AND e.notification_id > {after}"
        " ORDER BY e.notification_id"
    ).format(hashes=hashes, name=name, finished=finished, after=Literal(after))
    with conn.cursor(name=f"audit_{schema}") as cursor:
        cursor.itersize = 2000
        cursor.execute(statement)
        for row in cursor:
            yield _entry(row)


def _entry(row: tuple[Any, ...]) -> Entry:
    position, originator_id, version, topic, state, stored, previous = row
    assert isinstance(position, int) and isinstance(version, int) and isinstance(topic, str)
    assert isinstance(originator_id, UUID)
    state = bytes(state)
    stored_hash = bytes(stored) if stored is not None else None
    previous_hash = bytes(previous) if previous is not None else None
    return Entry(
        position=position,
        originator_id=originator_id,
        version=version,
        topic=topic,
        state=state,
        stored_hash=stored_hash,
        previous_hash=previous_hash,
        computed_hash=event_hash(
            position, originator_id, version, topic, state, previous_hash or GENESIS
        ),
        contract_id=_contract_of(state),
    )


def _contract_of(state: bytes) -> str:
    """The contract the event belongs to, from the provenance every event stores."""
    try:
        meta = json.loads(state).get("_meta") or {}
    except (ValueError, AttributeError):
        return ""
    return str(meta.get("contract_id") or "")
