"""GraphQL gateway vs a bare Starlette endpoint serving the same rows: requests per second.

Run: `.venv/bin/python -m bench.gateway_throughput`. Starts `accord dev` on a scratch data
dir and loads the demo; then serves the gateway app and a bare endpoint in this one process,
on the same read models, measures a contract query through each in alternating rounds, and
prints the median ratio of requests per second (the goal: at least 0.7), with the ratio of
CPU time per request beside it, which a busy host disturbs less.
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

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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
            response = await send()
            assert response.status_code == 200, response.text
            done += 1

    await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
    return done / SECONDS, (time.process_time() - cpu) / done


async def measure(database: str, contract: str) -> None:
    """Both servers in this one process, on the same data, measured back to back."""
    settings = Settings(database_url=database, graphql_ide=False)
    token = mint_token(settings, "am")
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    gateway = create_app(settings, InProcessBus())
    async with (
        serving(gateway) as gateway_url,
        serving(bare_app(database)) as bare_url,
        httpx.AsyncClient(timeout=30) as http,
    ):
        # Encoded once, as a load generator sends fixed bytes: encoding JSON is client work.
        body = json.dumps({"query": QUERY, "variables": {"id": contract}}).encode()

        async def ask_gateway() -> httpx.Response:
            return await http.post(f"{gateway_url}/graphql", content=body, headers=headers)

        async def ask_bare() -> httpx.Response:
            return await http.get(f"{bare_url}/contracts/{contract}")

        await rate(ask_gateway)  # warm-up
        await rate(ask_bare)
        ratios, cpu_ratios = [], []
        for n in range(1, ROUNDS + 1):
            (graphql, graphql_cpu), (bare, bare_cpu) = await rate(ask_gateway), await rate(ask_bare)
            ratios.append(graphql / bare)
            cpu_ratios.append(bare_cpu / graphql_cpu)
            print(
                f"round {n}: gateway {graphql:7.1f}/s, bare Starlette endpoint {bare:7.1f}/s,"
                f" ratio {graphql / bare:.2f}"
                f" (CPU per request {graphql_cpu * 1000:.2f} vs {bare_cpu * 1000:.2f} ms)"
            )
    print(f"ratio gateway/baseline  : {statistics.median(ratios):8.2f} median of {ROUNDS}"
          " (goal: at least 0.7)")  # fmt: skip
    # Less sensitive to a busy host than requests per second: the same comparison in CPU time.
    print(f"CPU ratio (for reference): {statistics.median(cpu_ratios):7.2f} median of {ROUNDS}")


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
