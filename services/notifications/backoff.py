"""How long to wait before the next attempt: exponential backoff with jitter, by tenacity."""

from __future__ import annotations

from datetime import timedelta

import tenacity


def retry_delay(attempt: int, base_seconds: float, max_seconds: float) -> timedelta:
    """After failed attempt n: base * 2^(n-1) seconds plus up to `base` of jitter, capped.

    The jitter spreads the retries of many notices that failed together (a receiver that was
    down), so they do not all come back at the same instant.
    """
    wait = tenacity.wait_exponential(multiplier=base_seconds, max=max_seconds) + (
        tenacity.wait_random(0, base_seconds)
    )
    state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = max(1, attempt)
    return timedelta(seconds=min(wait(state), max_seconds))
