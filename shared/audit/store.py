"""Checkpoints kept beside each service's events, and the audit of a whole service."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from psycopg.sql import SQL, Identifier

from shared.audit import log
from shared.audit.checkpoint import KeptCheckpoint, sign
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


def save(conn: psycopg.Connection[Any], schema: str, kept: KeptCheckpoint) -> None:
    create_table(conn, schema)
    conn.execute(
        SQL(
            "INSERT INTO {} (size, last_position, signed) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING"
        ).format(_table(schema)),
        (kept.checkpoint.size, kept.checkpoint.last_position, kept.model_dump_json()),
    )


def latest(conn: psycopg.Connection[Any], schema: str) -> KeptCheckpoint | None:
    """The newest checkpoint stored for this log, if any (its signature is not checked here)."""
    if not log.exists(conn, schema, TABLE):
        return None
    row = conn.execute(
        SQL("SELECT signed FROM {} ORDER BY last_position DESC, size DESC LIMIT 1").format(
            _table(schema)
        )
    ).fetchone()
    if row is None:
        return None
    signed = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    return KeptCheckpoint.model_validate(signed)


def entries(conn: psycopg.Connection[Any], service: str) -> list[log.Entry]:
    schema, table = log.events_table(service)
    if not log.exists(conn, schema, table):
        return []
    return list(log.read(conn, schema, table))


def checkpoint(
    conn: psycopg.Connection[Any], service: str, key: Ed25519PrivateKey
) -> KeptCheckpoint | None:
    """Sign the service's log as it stands, keep the checkpoint beside it and answer it; None
    when the service has stored nothing."""
    found = entries(conn, service)
    if not found:
        return None
    kept = sign(service, found, key)
    save(conn, service, kept)
    conn.commit()
    return kept


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
