"""GraphQL gateway vs a bare Starlette endpoint serving the same rows: requests per second.

Run: `.venv/bin/python -m bench.gateway_throughput`. Starts `accord dev` on a scratch data
dir and loads the demo; then serves, in this one process and on the same read models, the
gateway on its own pipeline and executor (ACCORD_GRAPHQL_ENGINE=accord), the gateway on stock
strawberry (`Schema.execute` with its parser and validation caches, =stock) and a bare
endpoint; measures a contract query through each in alternating rounds, and prints the median
ratios of requests per second: the gateway over the bare endpoint (the goal: at least 0.7),
stock strawberry over the bare endpoint, and the gateway's own engine over stock (what the
overrides earn: above 1.0, or they have no place), each with the ratio of CPU time per request
beside it, which a busy host disturbs less.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench import raw_http
from services.gateway.app import create_app
from services.gateway.projections.schema import SCHEMA_NAME
from shared.auth import mint_token
from shared.bus_memory import InProcessBus
from shared.database import create_pool
from shared.settings import Settings
from tests.e2e.test_embedded_default import accord_dev
from tests.integration.http_server import serving

QUERY = """query($id: ID!) { contract(id: $id) { title participants { personId role }
  expectations { id text status corporatePriority } } }"""
SECONDS = 3.0
CONCURRENCY = 8
# Gateway and baseline measured in turns, so a noisy neighbour hits both alike; the median wins.
ROUNDS = 7


def bare_app(database: str) -> Starlette:
    """The same three reads the resolvers make, as plain JSON, decoded and encoded with the
    gateway's own JSON library: the ratio measures GraphQL, not a faster JSON parser."""
    state: dict[str, Any] = {}

    async def contract(request: Request) -> Response:
        # The gateway's own pool settings, so the ratio measures GraphQL and nothing else.
        pool = state.get("pool") or await create_pool(database, SCHEMA_NAME, plain_queries=True)
        state["pool"] = pool
        cid = request.path_params["id"]
        head = await pool.fetchrow("SELECT title FROM contracts WHERE contract_id = $1", cid)
        people = await pool.fetch(
            "SELECT person_id, role FROM participants WHERE contract_id = $1 ORDER BY created_at, person_id",
            cid,
        )
        rows = await pool.fetch(
            "SELECT DISTINCT ON (v.expectation_id) v.state, p.position FROM expectation_versions v"
            " LEFT JOIN corporate_priorities p ON p.expectation_id = v.expectation_id"
            " WHERE v.contract_id = $1 ORDER BY v.expectation_id, v.version DESC", cid,
        )  # fmt: skip
        expectations = [
            {
                "id": s["expectation_id"],
                "text": s["text"],
                "status": s["status"],
                "corporatePriority": r["position"],
            }
            for r in rows
            for s in [orjson.loads(r["state"])]
        ]
        answer = {
            "title": head["title"],
            "participants": [dict(p) for p in people],
            "expectations": expectations,
        }
        return Response(orjson.dumps(answer), media_type="application/json")

    return Starlette(routes=[Route("/contracts/{id}", contract)])


async def rate(send: Any) -> tuple[float, float]:
    """Requests per second with CONCURRENCY callers for SECONDS, and this process's CPU time
    per request (client and both servers run here; PostgreSQL does not)."""
    done = 0
    deadline = time.monotonic() + SECONDS
    cpu = time.process_time()

    async def caller() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            answer = await send()
            assert answer.status == 200, answer.body
            done += 1

    await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
    return done / SECONDS, (time.process_time() - cpu) / done


ENGINES = ("accord", "stock")


async def measure(database: str, contract: str) -> None:
    """The three servers in this one process, on the same data, measured back to back."""
    settings = {
        engine: Settings(database_url=database, graphql_ide=False, graphql_engine=engine)
        for engine in ENGINES
    }
    token = mint_token(settings["accord"], "am")
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    async with (
        serving(create_app(settings["accord"], InProcessBus())) as accord_url,
        serving(create_app(settings["stock"], InProcessBus())) as stock_url,
        serving(bare_app(database)) as bare_url,
    ):
        # Requests made once, as a load generator sends fixed bytes: encoding is client work;
        # bench.raw_http, as httpx's own CPU per request would be most of the bare endpoint's.
        body = json.dumps({"query": QUERY, "variables": {"id": contract}}).encode()
        clients = {url: raw_http.Client(url) for url in (accord_url, stock_url, bare_url)}

        def sending(url: str, request: bytes) -> Any:
            async def ask() -> raw_http.Answer:
                return await clients[url].send(request)

            return ask

        graphql = {**headers, "content-type": "application/json"}
        asks = {
            name: sending(url, clients[url].request("POST", "/graphql", graphql, body))
            for name, url in (("accord", accord_url), ("stock", stock_url))
        }
        asks["bare"] = sending(
            bare_url, clients[bare_url].request("GET", f"/contracts/{contract}", {})
        )
        first = {name: (await ask()).json() for name, ask in asks.items() if name in ENGINES}
        assert first["accord"] == first["stock"], "the engines answer differently"
        for ask in asks.values():  # warm-up
            await rate(ask)
        # Per round: requests per second and CPU seconds per request of each server.
        rounds: list[dict[str, tuple[float, float]]] = []
        for n in range(1, ROUNDS + 1):
            measured = {name: await rate(ask) for name, ask in asks.items()}
            rounds.append(measured)
            (accord, accord_cpu), (stock, stock_cpu), (bare, bare_cpu) = measured.values()
            print(
                f"round {n}: gateway {accord:7.1f}/s, on stock strawberry {stock:7.1f}/s,"
                f" bare Starlette endpoint {bare:7.1f}/s; ratios {accord / bare:.2f},"
                f" {stock / bare:.2f}, gateway over stock {accord / stock:.2f}"
                f" (CPU per request {accord_cpu * 1000:.2f}, {stock_cpu * 1000:.2f},"
                f" {bare_cpu * 1000:.2f} ms)"
            )

    def median(faster: str, slower: str) -> tuple[float, float]:
        """The median ratio of requests per second, and of CPU time per request."""
        rates = [r[faster][0] / r[slower][0] for r in rounds]
        cpus = [r[slower][1] / r[faster][1] for r in rounds]
        return statistics.median(rates), statistics.median(cpus)

    for label, faster, slower, goal in (
        ("gateway/baseline", "accord", "bare", " (goal: at least 0.7)"),
        ("stock strawberry/baseline", "stock", "bare", ""),
        ("gateway/stock strawberry", "accord", "stock", " (the overrides' gain: above 1.0)"),
    ):
        rate_ratio, cpu_ratio = median(faster, slower)
        print(
            f"ratio {label:26}: {rate_ratio:5.2f} median of {ROUNDS}{goal};"
            f" CPU ratio (for reference) {cpu_ratio:5.2f}"
        )


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as data,
        accord_dev(Path(data)) as (url, database),
    ):
        demo = subprocess.run(
            [sys.executable, "-m", "accord", "demo", "--url", url.removesuffix("/graphql")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        contract = json.loads(demo.stdout)["contract_id"]
        # `accord dev` now idles and keeps the database up; both servers are measured here.
        asyncio.run(measure(database, contract))


if __name__ == "__main__":
    main()
