"""What every resolver gets: the caller, the read models, and the way to the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from strawberry.dataloader import DataLoader

from services.gateway.listening import ReadModelChanges
from shared.auth import Actor
from shared.settings import Settings


@dataclass
class GatewayContext:
    """One per operation (one per subscription connection)."""

    actor: Actor | None
    # Why the caller could not be authenticated, when they could not.
    refused: str
    authorization: str
    request_id: str
    pool: asyncpg.Pool
    http: httpx.AsyncClient
    settings: Settings
    # The projector's NOTIFY, shared by the process's live subscriptions.
    changes: ReadModelChanges | None = None
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)
    # graphql-transport-ws: the connection_init payload, where a subscriber's token arrives.
    connection_params: dict[str, Any] | None = None

    def loader(self, name: str, load: Any) -> DataLoader[Any, Any]:
        """The operation's DataLoader for `name`, so each list relation costs one query."""
        if name not in self.loaders:
            self.loaders[name] = DataLoader(load_fn=load)
        return self.loaders[name]
