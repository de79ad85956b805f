"""Tracing costs nothing it does not deliver: spans are recorded only for an exporter, while
trace context still flows from a request to the events it stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

PROBE = """
import json
from shared.telemetry import configure_telemetry, continue_trace, current_traceparent
configure_telemetry("probe")
incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
with continue_trace(incoming, "handle") as span:
    print("seen:", json.dumps({"recording": span.is_recording(), "traceparent": current_traceparent()}))
"""


def run_probe(script: str, **env: str) -> Any:
    """What the script printed after `seen: `, run in a fresh interpreter with only `env`'s
    OTEL_* settings (tracing is configured once per process)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    answer = subprocess.run(
        [sys.executable, "-c", script],
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    # The console exporter prints its spans on the same stdout.
    line = next(x for x in answer.stdout.splitlines() if x.startswith("seen: "))
    return json.loads(line.removeprefix("seen: "))


def probe(**env: str) -> dict[str, object]:
    result: dict[str, object] = run_probe(PROBE, **env)
    return result


def test_without_an_exporter_spans_are_not_recorded_but_the_trace_is_carried_on() -> None:
    seen = probe()
    assert seen["recording"] is False
    assert str(seen["traceparent"]).split("-")[1] == "0af7651916cd43dd8448eb211c80319c"


def test_with_an_exporter_spans_are_recorded_in_the_callers_trace() -> None:
    seen = probe(OTEL_TRACES_EXPORTER="console")
    assert seen["recording"] is True
    assert str(seen["traceparent"]).split("-")[1] == "0af7651916cd43dd8448eb211c80319c"


REQUESTS = """
import asyncio, json
from opentelemetry import context, propagate
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from services.gateway.service_calls import in_process
from shared.telemetry import configure_telemetry, current_traceparent, instrument_app
from opentelemetry import trace

configure_telemetry("probe")

async def seen(request):
    span = trace.get_current_span()
    return JSONResponse({"traceparent": current_traceparent(), "recording": span.is_recording()})

app = Starlette(routes=[Route("/seen", seen)])
instrument_app(app)

async def main():
    calls = in_process(app)
    async def ask(**headers):
        answer = await calls.request("GET", "http://probe/seen", headers=headers)
        return json.loads(answer.content)
    carried = await ask(traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    fresh = await ask()
    caller = propagate.extract({"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    token = context.attach(caller)
    try:
        in_process_call = await ask()
    finally:
        context.detach(token)
    print("seen:", json.dumps({"carried": carried, "fresh": fresh, "in_process": in_process_call}))

asyncio.run(main())
"""


def requests_probe(**env: str) -> dict[str, dict[str, object]]:
    result: dict[str, dict[str, object]] = run_probe(REQUESTS, **env)
    return result


def trace_id(seen: dict[str, object]) -> str:
    return str(seen["traceparent"]).split("-")[1]


def test_a_request_runs_in_the_trace_it_carries_or_its_callers_or_a_new_one() -> None:
    """Without an exporter (the default) and with one, alike: the trace a request's headers
    carry, else the trace of the context it is called in (a call in process), else a new one."""
    for env in ({}, {"OTEL_TRACES_EXPORTER": "console"}):
        seen = requests_probe(**env)
        assert trace_id(seen["carried"]) == "0af7651916cd43dd8448eb211c80319c", env
        assert trace_id(seen["in_process"]) == "4bf92f3577b34da6a3ce929d0e0e4736", env
        fresh = trace_id(seen["fresh"])
        assert fresh not in {"0" * 32, "0af7651916cd43dd8448eb211c80319c"}, env
        assert all(s["recording"] is bool(env) for s in seen.values()), env


WEBHOOK = """
import asyncio, ipaddress, json, time
import aiohttp
from aiohttp import web
from opentelemetry import context, propagate, trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from services.notifications.channels import webhook
from services.notifications.channels.outgoing import Outgoing
from shared.telemetry import configure_telemetry

configure_telemetry("probe")
kept = InMemorySpanExporter()
provider = trace.get_tracer_provider()
if hasattr(provider, "add_span_processor"):
    provider.add_span_processor(SimpleSpanProcessor(kept))
OUTGOING = Outgoing(
    key="notice-1", message_id="notice-1", contract_id="c-1", person_id="p-1",
    subject="New expectation", text="Tills work all day", payload={"person_id": "p-1"},
)

async def main():
    received = []
    async def hook(request):
        received.append(request.headers.get("traceparent", ""))
        return web.Response(status=204)
    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    loopback = [ipaddress.ip_network("127.0.0.0/8")]
    caller = propagate.extract({"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    async with aiohttp.ClientSession() as http:
        token = context.attach(caller)
        try:
            await webhook.send(http, f"http://127.0.0.1:{port}/hook", OUTGOING, "s", int(time.time()), loopback)
        finally:
            context.detach(token)
    await runner.cleanup()
    spans = [
        {"kind": s.kind.name, "span_id": format(s.context.span_id, "016x")}
        for s in kept.get_finished_spans()
    ]
    print("seen:", json.dumps({"received": received[0], "spans": spans}))

asyncio.run(main())
"""


def test_a_webhook_carries_its_delivery_trace_and_with_an_exporter_its_own_client_span() -> None:
    """Without an exporter the POST carries the context it is sent in; with one, aiohttp's
    instrumentation records a client span in that trace and the POST carries that span."""
    plain = run_probe(WEBHOOK)
    assert trace_id({"traceparent": plain["received"]}) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert plain["spans"] == []
    exported = run_probe(WEBHOOK, OTEL_TRACES_EXPORTER="console")
    received = str(exported["received"])
    assert trace_id({"traceparent": received}) == "4bf92f3577b34da6a3ce929d0e0e4736"
    clients = [s for s in exported["spans"] if s["kind"] == "CLIENT"]
    assert [s["span_id"] for s in clients] == [received.split("-")[2]]
