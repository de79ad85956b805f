"""Checkpoints kept beside each service's events, and the audit of a whole service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from psycopg.sql import SQL, Identifier

from shared.audit import log, merkle
from shared.audit.checkpoint import Checkpoint, KeptCheckpoint, LogSummary, sign_summary
from shared.audit.verify import Report, check_log

# In each service's schema: every checkpoint signed of its log, newest last.
TABLE = "audit_checkpoints"


def _table(schema: str) -> SQL | Any:
    return SQL("{}.{}").format(Identifier(schema), Identifier(TABLE))


def create_table(conn: psycopg.Connection[Any], schema: str) -> None:
    conn.execute(
        SQL(
            "CREATE TABLE IF NOT EXISTS {} (size bigint NOT NULL, last_position bigint NOT NULL,"
            " signed jsonb NOT NULL, stored_at timestamptz NOT NULL DEFAULT now(),"
            " PRIMARY KEY (last_position, size))"
        ).format(_table(schema))
    )
    # Whether the checkpoint went out on accord.audit.v1 (tables made before it: not yet).
    conn.execute(
        SQL(
            "ALTER TABLE {} ADD COLUMN IF NOT EXISTS published boolean NOT NULL DEFAULT false"
        ).format(_table(schema))
    )
    # The Merkle frontier of the log it signed, for the next checkpoint to extend (NULL: kept
    # before; the next one then reads the whole log).
    conn.execute(
        SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS frontier bytea[]").format(_table(schema))
    )


def save(
    conn: psycopg.Connection[Any],
    schema: str,
    kept: KeptCheckpoint,
    frontier: merkle.Frontier | None = None,
) -> KeptCheckpoint:
    """Keep the checkpoint (with the frontier of the log it signed, when known); answer the
    one kept for its position (an earlier one, if any), with the heads it names. The table
    must exist (`create_table`).

    Only the newest checkpoint keeps its heads (one per stream): an older one's are what the
    log up to its position gives, and their digest is what it signed, so an auditor recomputes
    and checks them; kept on every row, they grew the table by the number of streams, which
    grows with the history, at every signing."""
    c = kept.checkpoint
    row = conn.execute(
        SQL(
            "INSERT INTO {} AS c (size, last_position, signed, frontier) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (last_position, size) DO UPDATE SET signed = c.signed"
            " RETURNING signed->'checkpoint'"
        ).format(_table(schema)),
        (
            c.size,
            c.last_position,
            kept.model_dump_json(),
            None if frontier is None else list(frontier),
        ),
    ).fetchone()
    assert row is not None
    conn.execute(
        SQL(
            "UPDATE {} SET signed = signed - 'heads'"
            " WHERE (last_position, size) < (%s, %s) AND signed ? 'heads'"
        ).format(_table(schema)),
        (c.last_position, c.size),
    )
    # Checkpoints of one position name the same heads: those of the log up to it.
    return KeptCheckpoint(checkpoint=Checkpoint.model_validate(row[0]), heads=kept.heads)


def _kept(signed: str) -> KeptCheckpoint:
    """A stored checkpoint with its heads, read as text (`signed::text`): pydantic parses and
    checks the JSON in one pass, several times quicker than json's parse then pydantic's check
    of a dict, for heads of one entry per stream."""
    return KeptCheckpoint.model_validate_json(signed)


def unpublished(
    conn: psycopg.Connection[Any], schema: str, *, after: int | None = None
) -> list[Checkpoint]:
    """Checkpoints not yet published, oldest first; with `after`, every one past that position
    (a bus that forgets what it carried republishes them all). Their signed fields alone, which
    is what goes out, without the heads each one names (one per stream)."""
    if not log.exists(conn, schema, TABLE):
        return []
    where = SQL("last_position > %s") if after is not None else SQL("NOT published")
    rows = conn.execute(
        SQL("SELECT signed->'checkpoint' FROM {} WHERE {} ORDER BY last_position, size").format(
            _table(schema), where
        ),
        (after,) if after is not None else (),
    ).fetchall()
    return [Checkpoint.model_validate(row[0]) for row in rows]


def mark_published(conn: psycopg.Connection[Any], schema: str, through: int) -> None:
    conn.execute(
        SQL("UPDATE {} SET published = true WHERE last_position <= %s AND NOT published").format(
            _table(schema)
        ),
        (through,),
    )


def _newest(conn: psycopg.Connection[Any], schema: str, columns: str) -> tuple[Any, ...] | None:
    """The `columns` of the newest checkpoint stored for this log, if any."""
    if not log.exists(conn, schema, TABLE):
        return None
    return conn.execute(
        SQL("SELECT {} FROM {} ORDER BY last_position DESC, size DESC LIMIT 1").format(
            SQL(columns), _table(schema)
        )
    ).fetchone()


def latest(conn: psycopg.Connection[Any], schema: str) -> KeptCheckpoint | None:
    """The newest checkpoint stored for this log, if any (its signature is not checked here)."""
    row = _newest(conn, schema, "signed::text")
    return None if row is None else _kept(row[0])


def latest_signed(conn: psycopg.Connection[Any], schema: str) -> Checkpoint | None:
    """The newest stored checkpoint's signed fields alone, without the heads it names (one
    per stream: the schedule asks this every poll)."""
    row = _newest(conn, schema, "signed->'checkpoint'")
    return None if row is None else Checkpoint.model_validate(row[0])


def entries(conn: psycopg.Connection[Any], service: str) -> list[log.Entry]:
    schema, table = log.events_table(service)
    if not log.exists(conn, schema, table):
        return []
    return list(log.read(conn, schema, table))


def checkpoint(
    conn: psycopg.Connection[Any],
    service: str,
    key: Ed25519PrivateKey,
    *,
    now: datetime | None = None,
) -> KeptCheckpoint | None:
    """Sign the service's log as it stands, keep the checkpoint beside it and answer it (the
    one already kept, when its position was signed before); None when it has stored nothing.

    The newest checkpoint kept, when this key signed it and its frontier sums up what it
    signed, is extended by the events stored since; otherwise the whole log is read. Either
    way the checkpoint is the one a signing of the whole log gives."""
    schema, table = log.events_table(service)
    if not log.exists(conn, schema, table):
        return None
    create_table(conn, schema)
    base = signed_before(conn, schema, key) or LogSummary()
    summary = base.extended(log.read(conn, schema, table, after=base.last_position))
    if not summary.size:
        return None
    kept = save(conn, service, sign_summary(service, summary, key, now=now), summary.frontier)
    conn.commit()
    return kept


def signed_before(
    conn: psycopg.Connection[Any], schema: str, key: Ed25519PrivateKey
) -> LogSummary | None:
    """What the newest kept checkpoint signed, if `key` signed it, its heads are the ones it
    signed, and a frontier kept with it leads to its root; None otherwise. The checkpoints'
    table must have its frontier column (`create_table`)."""
    row = _newest(conn, schema, "signed::text, frontier")
    if row is None or row[1] is None:
        return None
    kept = _kept(row[0])
    if not (kept.checkpoint.signed_by([key.public_key()]) and kept.heads_match()):
        return None
    return LogSummary.of(kept, tuple(bytes(part) for part in row[1]))


def last_position(conn: psycopg.Connection[Any], service: str) -> int:
    """The newest final position of the service's log (0: empty), without reading the log."""
    schema, table = log.events_table(service)
    if not log.exists(conn, schema, table):
        return 0
    return log.last_position(conn, schema, table)


def audit(
    conn: psycopg.Connection[Any],
    service: str,
    trusted: Sequence[Ed25519PublicKey],
    *,
    against: Sequence[KeptCheckpoint] = (),
    contract_id: str = "",
) -> Report:
    """Verify the service's log: its chain, its newest stored checkpoint, and the ones given."""
    stored = latest(conn, service)
    given = [k for k in against if k.checkpoint.service == service]
    kept = [*given, *([stored] if stored and stored not in given else [])]
    return check_log(
        service, entries(conn, service), kept, trusted=trusted, contract_id=contract_id
    )
