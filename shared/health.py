"""Health endpoints every process serves: /healthz (alive) and /readyz (able to do its work)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# A readiness check answers None when fine, or the reason it is not.
Check = Callable[[], Awaitable[str | None]]


def health_routes(checks: Mapping[str, Check]) -> list[Route]:
    """/healthz answers while the process runs; /readyz runs every check and says which failed."""

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "alive"})

    async def readyz(_: Request) -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                problem = await check()
            except Exception as error:
                problem = f"{type(error).__name__}: {error}"
            results[name] = problem or "ok"
        ready = all(result == "ok" for result in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": results},
            status_code=200 if ready else 503,
        )

    return [Route("/healthz", healthz), Route("/readyz", readyz)]
