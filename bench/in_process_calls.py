"""The embedded default's calls from the gateway to a service mounted beside it: CPU per call.

Run: `.venv/bin/python -m bench.in_process_calls [--calls N] [--rounds R]`. In this one process,
posts a command-sized JSON body with the gateway's headers to a Starlette route mounted as the
services are (`/elicitation/...`), through each way of `ACCORD_IN_PROCESS_CALLS`: `direct` (the
app handed the request: services/gateway/service_calls.py) and `httpx` (httpx's client through
its ASGI transport, the stock way). Rounds alternate; prints the median CPU microseconds per
call of each and the ratio httpx / direct (what the direct way earns: above 1.0, or it has no
place). The route's own work (routing, reading the body, a JSON answer) is in both figures.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from services.gateway.service_calls import InProcessWay, in_process

URL = "http://127.0.0.1:8765/elicitation/contracts/7d1c/expectations"
BODY = {
    "text": "Priority-1 incidents are resolved within four hours, every day of the year",
    "business_area": "operations",
    "why_it_matters": "the warehouse stops when the scanners stop",
    "expected_version": 12,
}
HEADERS = {"authorization": "Bearer " + "x" * 320, "x-correlation-id": "0f6c2a9e3b1d4e5f"}


async def propose(request: Request) -> JSONResponse:
    body = await request.json()
    return JSONResponse({"id": request.path_params["contract"], "version": len(body)})


APP = Starlette(
    routes=[
        Mount(
            "/elicitation",
            routes=[Route("/contracts/{contract}/expectations", propose, methods=["POST"])],
        )
    ]
)


async def cpu_per_call(way: InProcessWay, calls: int) -> float:
    """CPU microseconds per call of `calls` posts, one after another."""
    service = in_process(APP, way)
    try:
        await service.request("POST", URL, headers=HEADERS, json=BODY)  # warm
        started = time.process_time()
        for _ in range(calls):
            answer = await service.request("POST", URL, headers=HEADERS, json=BODY)
            assert answer.status_code == 200, answer
        return (time.process_time() - started) / calls * 1e6
    finally:
        await service.aclose()


async def measure(calls: int, rounds: int) -> None:
    figures: dict[InProcessWay, list[float]] = {"direct": [], "httpx": []}
    for _ in range(rounds):
        for way in figures:
            figures[way].append(await cpu_per_call(way, calls))
    direct = statistics.median(figures["direct"])
    stock = statistics.median(figures["httpx"])
    print(f"direct (Accord's):            {direct:7.1f} us CPU per call")
    print(f"httpx ASGI transport (stock): {stock:7.1f} us CPU per call")
    print(f"httpx / direct: {stock / direct:.2f}x (median of {rounds} rounds of {calls:,} calls)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(measure(args.calls, args.rounds))


if __name__ == "__main__":
    main()
