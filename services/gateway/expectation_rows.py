"""Expectations read by their ids, as stored rows: what a field naming one expectation (a
ranking's entry) loads through the operation's DataLoader, one query for every entry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from services.gateway.loading import grouped


async def latest_by_id(pool: asyncpg.Pool, ids: Sequence[str]) -> list[list[Any]]:
    """Each expectation's latest version (`version`, `state`, its corporate `position`): one
    row per id asked, none for an id the read model does not hold."""
    rows = await pool.fetch(
        "SELECT DISTINCT ON (v.expectation_id) v.expectation_id, v.version, v.state, p.position"
        " FROM expectation_versions v"
        " LEFT JOIN corporate_priorities p ON p.expectation_id = v.expectation_id"
        " WHERE v.expectation_id = ANY($1::text[]) ORDER BY v.expectation_id, v.version DESC",
        list(ids),
    )
    return grouped(ids, rows, lambda row: row, by="expectation_id")
