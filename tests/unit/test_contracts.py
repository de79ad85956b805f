"""The contract registry: every published type has a schema, and its example satisfies it."""

import jsonschema
import pytest

import tests.support.notes  # noqa: F401 - registers the test service's contracts
from shared.schemas import UnknownEventType, registry
from shared.schemas.registry import ContractViolation

SPECS = list(registry)


def test_every_service_contract_and_the_test_contracts_are_registered() -> None:
    assert "accord.testkit.NoteWritten.v1" in {spec.ce_type for spec in SPECS}


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.ce_type)
def test_each_registered_type_has_an_example_that_its_json_schema_accepts(spec) -> None:
    schema = spec.json_schema()
    assert spec.example is not None, f"{spec.ce_type} needs an example"
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(dict(spec.example), schema)
    assert spec.to_data(spec.example) == spec.parse(spec.example).model_dump(mode="json")


def test_a_json_schema_rejects_data_missing_a_required_field() -> None:
    schema = registry.lookup("accord.testkit.NoteRewritten.v1").json_schema()
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"text": "no reason given"}, schema)


def test_an_unknown_type_is_refused_by_name() -> None:
    with pytest.raises(UnknownEventType, match=r"accord\.testkit\.Nope\.v1"):
        registry.lookup("accord.testkit.Nope.v1")


def test_data_that_breaks_the_contract_is_a_contract_violation() -> None:
    spec = registry.lookup("accord.testkit.NoteWritten.v1")
    with pytest.raises(ContractViolation, match="contract_id"):
        spec.to_data({"contract_id": "not-a-uuid", "text": "x"})
