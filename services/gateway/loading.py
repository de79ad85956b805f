"""Relations read through the operation's DataLoaders: one query per relation, however many
objects of the answer ask for it."""

from __future__ import annotations

from asyncio import Future
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

import asyncpg
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from services.gateway.context import GatewayContext

T = TypeVar("T")

# Reads one list per key (a contract's, an expectation's...), in the order of the keys asked.
Batch = Callable[[asyncpg.Pool, Sequence[str]], Awaitable[list[list[T]]]]

# A relation: loading, or loaded already.
Loaded = Awaitable[list[T]] | list[T]


def grouped(
    keys: Sequence[str], rows: Sequence[Any], build: Callable[[Any], T], *, by: str
) -> list[list[T]]:
    """The rows, built, in one list per key (the value of their column `by`), in the order of
    the keys asked: what a batch hands its DataLoader."""
    by_key: dict[str, list[T]] = {key: [] for key in keys}
    for row in rows:
        by_key[row[by]].append(build(row))
    return [by_key[key] for key in keys]


def load(info: Info[GatewayContext, None], batch: Batch[T], key: str) -> Loaded[T]:
    """Through the operation's DataLoader for this relation: one query for every key.
    A relation loaded already (see queries.prefetch) is answered as it is."""
    loading = _loader(info, batch).load(key)
    if isinstance(loading, Future) and loading.done() and not loading.cancelled():
        return loading if loading.exception() else cast("list[T]", loading.result())
    return loading


def _loader(info: Info[GatewayContext, None], batch: Batch[T]) -> DataLoader[str, Any]:
    """The operation's DataLoader, or, below a field answered as of an instant, that field's."""
    ctx = info.context
    if ctx.scopes:
        path = info.path
        while path.prev is not None:
            path = path.prev
        scoped = ctx.scopes.get(str(path.key))
        if scoped is not None:
            if batch not in scoped:  # never the present in a past answer
                raise LookupError(f"{batch.__name__} is not read as of an instant")
            return scoped[batch]
    return ctx.loader(batch)
