"""How long to wait before the next attempt: exponential backoff with jitter, by tenacity.

The jitter draws from a generator of its own: the process's global `random` stays untouched,
so nothing else that draws from it (a test's generator of examples) sees the service move it.
"""

from __future__ import annotations

import random
from datetime import timedelta

import tenacity

_JITTER = random.Random()


class full_jitter(tenacity.wait_exponential):
    """tenacity's `wait_random_exponential` (anywhere in a window that doubles per attempt),
    drawn from this module's generator."""

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        return _JITTER.uniform(self.min, super().__call__(retry_state))


class up_to(tenacity.wait.wait_base):
    """tenacity's `wait_random(0, most)`, drawn from this module's generator."""

    def __init__(self, most: float) -> None:
        self.most = most

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        return _JITTER.uniform(0, self.most)


def retry_delay(attempt: int, base_seconds: float, max_seconds: float) -> timedelta:
    """After failed attempt n: base * 2^(n-1) seconds plus up to `base` of jitter, capped.

    The jitter spreads the retries of many notices that failed together (a receiver that was
    down), so they do not all come back at the same instant.
    """
    wait = tenacity.wait_exponential(multiplier=base_seconds, max=max_seconds) + up_to(base_seconds)
    state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = max(1, attempt)
    return timedelta(seconds=min(wait(state), max_seconds))
