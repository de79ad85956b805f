"""The eventsourcing library alone, stock: an Application with its PostgreSQL recorder saving a
new aggregate per call, the store's baseline in bench.command_throughput."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate


class Proposal(Aggregate):
    """An expectation as small as the command's input: the library's cost, not the domain's."""

    def __init__(self, contract_id: str, text: str, business_area: str, by: str) -> None:
        self.contract_id = contract_id
        self.text = text
        self.business_area = business_area
        self.by = by


def library_env(
    database_url: str, schema: str, pool_size: int, *, db_functions: bool
) -> dict[str, str]:
    """The library's own settings for the server at database_url, tables in `schema`."""
    url = urlsplit(database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(url.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_SCHEMA": schema,
        # One connection per thread, as a service would size it for its callers.
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": "0",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "y" if db_functions else "n",
    }


def library_app(
    database_url: str, schema: str, pool_size: int, *, db_functions: bool
) -> Application[UUID]:
    """A stock Application on its PostgreSQL recorder; its tables are made on first use."""
    return Application(env=library_env(database_url, schema, pool_size, db_functions=db_functions))


def save_new(app: Application[UUID], contract_id: str, text: str, by: str) -> None:
    """One command's worth of library work: a new aggregate, saved."""
    app.save(Proposal(contract_id, text, "operations", by))
