"""The gateway builds a service's URL from quoted segments: an id never reaches another path.

(What the gateway does with each kind of service answer is tested against a real HTTP peer in
tests/integration/gateway/test_service_answers.py.)"""

from __future__ import annotations

from services.gateway.ids import path


def test_a_service_path_is_built_from_quoted_segments() -> None:
    built = path("/expectations/{expectation_id}/commit", expectation_id="../obligations/1?x=")
    assert built == "/expectations/..%2Fobligations%2F1%3Fx%3D/commit"
