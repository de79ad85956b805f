"""Health endpoints every process serves: /healthz (alive) and /readyz (able to do its work)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# A readiness check answers None when fine, or the reason it is not.
Check = Callable[[], Awaitable[str | None]]

# A check that has not answered by then is not ready: the probe answers while what a check
# waits on (a database gone, a pool reconnecting) does not, well inside an orchestrator's
# probe timeout (deploy/k8s: 5 s).
CHECK_SECONDS = 2.0


def health_routes(checks: Mapping[str, Check], *, seconds: float = CHECK_SECONDS) -> list[Route]:
    """/healthz answers while the process runs; /readyz runs every check at once, each for at
    most `seconds`, and says which failed."""

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "alive"})

    async def readyz(_: Request) -> JSONResponse:
        answers = await asyncio.gather(*(_answer(check, seconds) for check in checks.values()))
        results = dict(zip(checks, answers, strict=True))
        ready = all(result == "ok" for result in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": results},
            status_code=200 if ready else 503,
        )

    return [Route("/healthz", healthz), Route("/readyz", readyz)]


async def _answer(check: Check, seconds: float) -> str:
    """What the check says: "ok", its problem, what it raised, or that it did not answer."""
    try:
        async with asyncio.timeout(seconds):
            problem = await check()
    except TimeoutError:
        return f"no answer within {seconds:g} s"
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return problem or "ok"
