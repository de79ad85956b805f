"""A real webhook receiver for the tests: checks each signature, counts arrivals by key.

Like a careful production receiver it deduplicates by the Idempotency-Key header: `accepted`
holds each key once, `raw` counts every arrival (a repeat after a crash shows up only there).
Each path behaves as its name says: ok, flaky (500 the first time per key), dead (always 500),
slow (answers after the sender's timeout), held (answers once the test sets `released`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.notifications.channels.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
)


class Receiver:
    def __init__(self, secret: str, *, delay: float = 0.0) -> None:
        self.secret = secret
        # Every answer waits this long: widens the window in which the sender can be killed.
        self.delay = delay
        self.accepted: dict[str, dict[str, Any]] = {}
        self.by_path: dict[str, list[str]] = {}
        self.raw: Counter[str] = Counter()
        # The Host header of every signed arrival: the name the sender was given.
        self.hosts: list[str] = []
        # The traceparent header each key first came with ("" when none).
        self.traces: dict[str, str] = {}
        self.bad_signatures = 0
        # The held path's requests wait for this; `holding` counts those waiting.
        self.released = asyncio.Event()
        self.holding = 0
        # Requests that arrived and are not answered yet.
        self.answering = 0
        self.app = Starlette(routes=[Route("/hook/{behaviour}", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> JSONResponse:
        self.answering += 1
        try:
            return await self._answer(request)
        finally:
            self.answering -= 1

    async def _answer(self, request: Request) -> JSONResponse:
        body = await request.body()
        headers = request.headers
        if not verify(
            self.secret, headers.get(TIMESTAMP_HEADER, ""), body,
            headers.get(SIGNATURE_HEADER, ""), time.time(),
        ):  # fmt: skip
            self.bad_signatures += 1
            return JSONResponse({"error": "bad signature"}, status_code=401)
        key = headers[IDEMPOTENCY_HEADER]
        self.hosts.append(headers.get("host", ""))
        self.traces.setdefault(key, headers.get("traceparent", ""))
        behaviour = request.path_params["behaviour"]
        self.raw[key] += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if behaviour == "dead" or (behaviour == "flaky" and self.raw[key] == 1):
            return JSONResponse({"error": "try later"}, status_code=500)
        if behaviour == "slow":
            await asyncio.sleep(5)
        if behaviour == "held":
            self.holding += 1
            try:
                await self.released.wait()
            finally:
                self.holding -= 1
        if key not in self.accepted:  # a repeat is acknowledged, and dropped
            self.accepted[key] = json.loads(body)
            self.by_path.setdefault(behaviour, []).append(key)
        return JSONResponse({"ok": True})

    def for_person(self, person_id: str) -> list[dict[str, Any]]:
        return [p for p in self.accepted.values() if p.get("person_id") == person_id]

    @property
    def repeats(self) -> int:
        """Arrivals beyond the first of each key: sends the receiver had to drop."""
        return sum(count - 1 for count in self.raw.values())
