"""Relations read through the operation's DataLoaders: one query per relation, however many
objects of the answer ask for it."""

from __future__ import annotations

from asyncio import Future
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar, cast

import asyncpg
from strawberry.types import Info

from services.gateway.context import GatewayContext

T = TypeVar("T")

# Reads one list per key (a contract's, an expectation's...), in the order of the keys asked.
Batch = Callable[[asyncpg.Pool, Sequence[str]], Awaitable[list[list[T]]]]

# A relation: loading, or loaded already.
Loaded = Awaitable[list[T]] | list[T]


def load(info: Info[GatewayContext, None], batch: Batch[T], key: str) -> Loaded[T]:
    """Through the operation's DataLoader for this relation: one query for every key.
    A relation loaded already (see queries.prefetch) is answered as it is."""
    loading = info.context.loader(batch).load(key)
    if isinstance(loading, Future) and loading.done() and not loading.cancelled():
        return loading if loading.exception() else cast("list[T]", loading.result())
    return loading
