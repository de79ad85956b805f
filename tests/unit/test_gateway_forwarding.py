"""The gateway builds a service's URL from quoted segments: an id never reaches another path;
a service's refusal comes back with fields named as the schema names them.

(What the gateway does with each kind of service answer is tested against a real HTTP peer in
tests/integration/gateway/test_service_answers.py.)"""

from __future__ import annotations

from services.gateway.forwarding import in_schema_names
from services.gateway.ids import path


def test_a_service_path_is_built_from_quoted_segments() -> None:
    built = path("/expectations/{expectation_id}/commit", expectation_id="../obligations/1?x=")
    assert built == "/expectations/..%2Fobligations%2F1%3Fx%3D/commit"


def test_a_service_refusal_names_fields_as_the_schema_does() -> None:
    message, details = in_schema_names(
        "prepare_for must not be empty; missing: measurement_method",
        {"field": "prepare_for", "missing": ["measurement_method"], "expected_version": 3},
    )
    assert message == "prepareFor must not be empty; missing: measurementMethod"
    assert details == {
        "field": "prepareFor",
        "missing": ["measurementMethod"],
        "expectedVersion": 3,
    }


def test_each_problem_of_a_service_refusal_names_its_field_as_the_schema_does() -> None:
    message, details = in_schema_names(
        "invalid input: steps.0.due_on", {"problems": [{"field": "steps.0.due_on", "problem": "x"}]}
    )
    assert message == "invalid input: steps.0.dueOn"
    assert details == {"problems": [{"field": "steps.0.dueOn", "problem": "x"}]}


def test_values_a_service_refusal_quotes_stay_as_they_were() -> None:
    message, details = in_schema_names(
        "role_x cannot be 'due_on'", {"field": "role_x", "value": "due_on", "person_id": "a_b"}
    )
    assert details == {"field": "roleX", "value": "due_on", "personId": "a_b"}
    assert message == "roleX cannot be 'due_on'"
