"""Tracing costs nothing it does not deliver: spans are recorded only for an exporter, while
trace context still flows from a request to the events it stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import json
from shared.telemetry import configure_telemetry, continue_trace, current_traceparent
configure_telemetry("probe")
incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
with continue_trace(incoming, "handle") as span:
    print("seen:", json.dumps({"recording": span.is_recording(), "traceparent": current_traceparent()}))
"""


def probe(**env: str) -> dict[str, object]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    answer = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    # The console exporter prints its spans on the same stdout.
    line = next(x for x in answer.stdout.splitlines() if x.startswith("seen: "))
    result: dict[str, object] = json.loads(line.removeprefix("seen: "))
    return result


def test_without_an_exporter_spans_are_not_recorded_but_the_trace_is_carried_on() -> None:
    seen = probe()
    assert seen["recording"] is False
    assert str(seen["traceparent"]).split("-")[1] == "0af7651916cd43dd8448eb211c80319c"


def test_with_an_exporter_spans_are_recorded_in_the_callers_trace() -> None:
    seen = probe(OTEL_TRACES_EXPORTER="console")
    assert seen["recording"] is True
    assert str(seen["traceparent"]).split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
