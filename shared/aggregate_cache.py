"""The cache of loaded aggregates that a service keeps by its own saves: never behind its store.

With `ACCORD_AGGREGATE_CACHE_FASTFORWARD` off (a store's only writer, the embedded default),
a cached aggregate is not read up to date on each load: the cache must never hold a version
older than one stored. The library's LRU cache puts whatever it is given, and with the threads
of one process an older copy could land after a newer one in two ways:

- a load that missed reads the store; meanwhile another command saves the next version; then
  the load puts what it had read (the library's `Repository.get` puts after reading);
- a command's save puts its copy late, after a later command has saved and put the next one.

An aggregate left behind its store that way could never change again until a restart: every
command on it would lose its save to the version already stored, run again on the same stale
copy, and be refused after its tries; one whose rules looked at the stale copy would be refused
for what no longer holds. So this cache puts no copy older than the one it holds, nor older
than a version being saved (`saving`, told before each save: a load that read the store before
that save's commit cannot put what it read after it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from uuid import UUID

from eventsourcing.application import LRUCache


class NewestOnly(LRUCache[UUID, Any]):
    """An LRU cache of aggregates that never goes back to an older version of one."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize)
        # Held while a put compares versions (the base class's own lock is not reentrant).
        self._guard = threading.Lock()
        # The version each aggregate saved lately is being saved at, the most recent kept.
        self._saving: OrderedDict[UUID, int] = OrderedDict()
        self._remember = 2 * max(maxsize, 1)

    def saving(self, aggregate_id: UUID, version: int) -> None:
        """A save of the aggregate at `version` is about to be made: the store holds at least
        that version once it is made, or once it failed because another command made it."""
        with self._guard:
            if version > self._saving.get(aggregate_id, 0):
                self._saving[aggregate_id] = version
            self._saving.move_to_end(aggregate_id)
            while len(self._saving) > self._remember:
                self._saving.popitem(last=False)

    def put(self, key: UUID, value: Any | None) -> Any | None:
        """Keep `value` unless it is older than the aggregate kept or one being saved."""
        if value is None:
            return None
        with self._guard:
            if value.version < self._saving.get(key, 0):
                return None
            try:
                kept = super().get(key)
            except KeyError:
                kept = None
            if kept is not None and kept.version > value.version:
                return None
            return super().put(key, value)
