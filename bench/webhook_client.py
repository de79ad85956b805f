"""The webhook channel's HTTP client: the sender's CPU per signed POST, aiohttp against httpx.

Run: `.venv/bin/python -m bench.webhook_client [--requests N] [--rounds R]`. Serves a receiver
(Starlette on uvicorn, as tests/integration/notifications/receiver.py is served) in a process
of its own on a loopback port, then in alternating rounds POSTs N signed notice bodies to it,
4 at a time (the delivery worker's default concurrency), through aiohttp's client (what
`services/notifications/channels/webhook.py` sends with) and through httpx's (what it sent with
before, and what Accord's other outgoing calls use), each with one pooled client, after a
warm-up. Prints the CPU of this process per request and the requests per second of each, and
the ratio httpx/aiohttp of CPU per request (the median of the rounds').
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import statistics
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.notifications.channels.outgoing import Outgoing
from services.notifications.channels.webhook import request_of
from tests.integration.http_server import free_port

CONCURRENCY = 4
WARMUP = 100
OUTGOING = Outgoing(
    key="notice-1", message_id="notice-1", contract_id="c-1", person_id="p-1",
    subject="New expectation: Tills work all trading hours",
    text="Chris Fagan proposed “Tills work all trading hours” (Stores). " * 4,
    payload={"person_id": "p-1", "trigger": "EXPECTATION_PROPOSED", "text": "x" * 400},
)  # fmt: skip


async def hook(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"ok": True})


def receive(port: int) -> None:
    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def cpu_seconds() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


async def measured(post: Callable[[], Awaitable[None]], requests: int) -> tuple[float, float]:
    """CPU ms per request and requests/s of `requests` posts, CONCURRENCY at a time."""
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one() -> None:
        async with slots:
            await post()

    await asyncio.gather(*(one() for _ in range(WARMUP)))
    started, cpu = time.perf_counter(), cpu_seconds()
    await asyncio.gather(*(one() for _ in range(requests)))
    seconds = time.perf_counter() - started
    return (cpu_seconds() - cpu) / requests * 1000, requests / seconds


async def with_aiohttp(url: str, requests: int) -> tuple[float, float]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:

        async def post() -> None:
            body, headers = request_of(OUTGOING, "secret", int(time.time()))
            async with session.post(url, data=body, headers=headers) as response:
                assert response.status == 200

        return await measured(post, requests)


async def with_httpx(url: str, requests: int) -> tuple[float, float]:
    async with httpx.AsyncClient(timeout=10) as client:

        async def post() -> None:
            body, headers = request_of(OUTGOING, "secret", int(time.time()))
            response = await client.post(url, content=body, headers=headers)
            assert response.status_code == 200

        return await measured(post, requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    receiver = multiprocessing.Process(target=receive, args=(port,), daemon=True)
    receiver.start()
    url = f"http://127.0.0.1:{port}/hook"
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    ratios = []
    try:
        for n in range(args.rounds):
            figures = {}
            for name, way in (("aiohttp", with_aiohttp), ("httpx", with_httpx)):
                figures[name] = asyncio.run(way(url, args.requests))
                ms, rate = figures[name]
                print(f"round {n + 1} {name:8} {ms:.3f} ms CPU per request  {rate:7.0f}/s")
            ratios.append(figures["httpx"][0] / figures["aiohttp"][0])
    finally:
        receiver.terminate()
    print(f"httpx/aiohttp, CPU per request: {statistics.median(ratios):.1f}x")


if __name__ == "__main__":
    main()
