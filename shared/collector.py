"""The interpreter's garbage collector, set for processes that allocate fast.

CPython collects its youngest generation after 700 net allocations of container objects, and
each older one after 10 collections of the one below it. An Accord process allocates thousands
of them per command (requests, envelopes, rows, copies of loaded aggregates), so it collected
hundreds of times a second and walked its long-lived objects (the loaded aggregates, the
schema, the caches) again and again: about 8% of `accord dev`'s CPU under 16 GraphQL clients.
With `ACCORD_GC_THRESHOLD` (20,000) the youngest generation is collected after that many and
each older one after 20 of the one below; `0` keeps CPython's own thresholds. Reference
counting still frees at once everything that is not in a reference cycle: only cycles wait.
"""

from __future__ import annotations

import gc

# CPython's own thresholds (gc.get_threshold() in a fresh interpreter).
STOCK = (700, 10, 10)
# Collections of a generation before the next older one is collected, when tuned.
OLDER = 20


def tune(threshold: int) -> None:
    """Collect the youngest generation after `threshold` allocations; 0: CPython's way."""
    gc.set_threshold(*((threshold, OLDER, OLDER) if threshold else STOCK))


def spare_the_exit() -> None:
    """Once a process has stopped serving: what it still holds is freed with it, so the
    interpreter's collections at exit need not walk it. Those took 3-4 s of an `accord dev`
    stopped with Ctrl-C after a few seconds of load, every part already stopped and its data
    safe; frozen, the stop takes about a second. Nothing is lost: pools and files are closed
    by then, and exit handlers still run."""
    gc.freeze()
