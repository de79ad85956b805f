"""What every resolver gets: the caller, the read models, and the way to the services."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import asyncpg
from strawberry.dataloader import DataLoader

from services.gateway.consistency import ReadYourWrites
from services.gateway.listening import ReadModelChanges
from services.gateway.service_calls import ServiceCalls
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
    services: ServiceCalls
    settings: Settings
    # The projector's NOTIFY, shared by the process's live subscriptions.
    changes: ReadModelChanges | None = None
    # The process's commands waiting for the read model, checked together; a context made
    # without it (a test's) has its commands wait on their own.
    read_your_writes: ReadYourWrites | None = None
    loaders: dict[Any, DataLoader[str, Any]] = field(default_factory=dict)
    # The DataLoaders of each top-level field answered as of an instant, by its response key:
    # what loads below it is read from its rebuild (services/gateway/time_travel.py).
    scopes: dict[str, dict[Any, DataLoader[str, Any]]] = field(default_factory=dict)
    # graphql-transport-ws: the connection_init payload, where a subscriber's token arrives.
    connection_params: dict[str, Any] | None = None

    def loader(self, batch: Callable[[asyncpg.Pool, Sequence[str]], Any]) -> DataLoader[str, Any]:
        """The operation's DataLoader for the relation `batch` reads: one query per relation."""
        loader = self.loaders.get(batch)
        if loader is None:
            # Bound to the pool, not to this context: holding the context would make a cycle.
            loader = self.loaders[batch] = DataLoader(load_fn=partial(batch, self.pool))
        return loader
