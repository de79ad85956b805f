"""OpenTelemetry from the standard OTEL_* variables; trace context carried in Kafka headers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import Span, SpanKind
from starlette.types import ASGIApp, Receive, Scope, Send

_configured = False


def configure_telemetry(service_name: str) -> None:
    """Install a tracer provider and the instrumentations, once per process.

    OTEL_SDK_DISABLED=true turns tracing off; OTEL_TRACES_EXPORTER names the exporters
    (console, otlp, none; none by default so a process never waits on a missing collector).
    With no exporter, spans are not recorded (nobody would read them) and the database is not
    instrumented; trace context still flows from requests to stored events and to the
    services, so a caller's traceparent reaches Kafka consumers either way.
    """
    global _configured
    if _configured or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return
    _configured = True
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    exporters = _exporters(os.environ.get("OTEL_TRACES_EXPORTER", "none"))
    # Recording spans that no exporter sends cost the command path ~10% of its CPU.
    sampler = None if exporters else ALWAYS_OFF
    provider = TracerProvider(resource=resource, sampler=sampler)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _instrument_libraries(recording=bool(exporters))


def _records_spans() -> bool:
    """Whether the installed tracer provider records spans: not a no-op one, nor ours without
    an exporter (sampled ALWAYS_OFF)."""
    sampler = getattr(trace.get_tracer_provider(), "sampler", None)
    return sampler is not None and sampler is not ALWAYS_OFF


def _exporters(names: str) -> list[SpanExporter]:
    exporters: list[SpanExporter] = []
    for name in (n.strip() for n in names.split(",")):
        if name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
    return exporters


def _instrument_libraries(*, recording: bool) -> None:
    """Kafka and HTTP clients carry trace context. Database spans, and aiohttp's client spans
    (webhooks, the distributed gateway's calls), only serve an exporter: without one, those
    calls carry the caller's context by `propagate.inject` (service_calls.OverNetwork, the
    webhook channel), cheaper than a span nobody records."""
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    if recording:
        AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]
        AioHttpClientInstrumentor().instrument()
    AIOKafkaInstrumentor().instrument()
    HTTPXClientInstrumentor().instrument()


def instrument_app(app: Any) -> None:
    """Trace every HTTP request of a Starlette app (when telemetry is configured). With no
    exporter only the caller's trace context is carried into each request (CarriedTrace): the
    instrumentation's spans that nobody records cost about 250 us a request, twice for every
    command of the embedded default (the gateway's request, then the service's)."""
    if not _configured:
        return
    if not _records_spans():
        app.add_middleware(CarriedTrace)
        return
    from opentelemetry.instrumentation.starlette import StarletteInstrumentor

    StarletteInstrumentor.instrument_app(app)


class CarriedTrace:
    """Runs each request in a span of its own, not recorded (there is no exporter): a child of
    the trace context the request carries (its `traceparent` and `tracestate` headers), else
    of the context it is called in (in process, its caller's), else the root of a new trace.
    What the request stores carries that trace, as under OpenTelemetry's instrumentation."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope.get("headers", ())
            if name in _TRACE_HEADERS
        }
        parent = propagate.extract(carrier) if "traceparent" in carrier else None
        span = tracer().start_span("request", context=parent, kind=SpanKind.SERVER)
        token = context.attach(trace.set_span_in_context(span, parent))
        try:
            await self.app(scope, receive, send)
        finally:
            context.detach(token)


# The W3C trace context headers, as ASGI gives header names.
_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate"})


def tracer() -> trace.Tracer:
    return trace.get_tracer("accord")


def current_traceparent() -> str:
    """The W3C traceparent of the active span, or "" when there is none."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent", "")


@contextmanager
def continue_trace(traceparent: str, name: str, **attributes: str) -> Iterator[Span]:
    """Run a consumer's handling of one message inside the trace its producer started.

    The aiokafka instrumentation's receive span ends before the handler runs, so the
    context is taken from the message's own traceparent header. When no span is recorded the
    producer's context is only made current, so what the handler stores carries it on (a
    span that nobody records cost the projections ~5% of the command path's CPU).
    """
    parent = propagate.extract({"traceparent": traceparent}) if traceparent else None
    if not _records_spans():
        token = context.attach(parent) if parent is not None else None
        try:
            yield trace.get_current_span()
        finally:
            if token is not None:
                context.detach(token)
        return
    with tracer().start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span
