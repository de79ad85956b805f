"""docs/asyncapi.yaml is the registry's event catalogue: a valid AsyncAPI 3.0 document, up to date."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import Field
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012

from accord.asyncapi import DOCUMENT, build_document, payload_schema, render
from shared.envelope import Envelope, to_kafka
from shared.schemas.registry import ContractSpec, EventContract
from tests.deploy.artifacts import ROOT, published_contracts

# The official JSON Schema of AsyncAPI 3.0.0 (npm package @asyncapi/specs 6.11.1,
# schemas/3.0.0.json, Apache-2.0), vendored so the check needs no network.
ASYNCAPI_SCHEMA = Path(__file__).parent / "schemas" / "asyncapi-3.0.0.json"

PUBLISHED = published_contracts()
DOC = build_document(PUBLISHED)


def asyncapi_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(ASYNCAPI_SCHEMA.read_text())
    resources = [
        (uri, Resource.from_contents(definition, default_specification=DRAFT7))
        for uri, definition in schema["definitions"].items()
    ]
    validator = jsonschema.Draft7Validator(schema, registry=Registry().with_resources(resources))
    return [
        f"{'/'.join(str(part) for part in error.absolute_path)}: {error.message[:300]}"
        for error in validator.iter_errors(document)
    ]


def validator_at(pointer: str) -> jsonschema.Draft202012Validator:
    """A validator for the schema at `#<pointer>` of the document, its `$ref`s resolved in it."""
    uri = "urn:accord:asyncapi"
    resource = Resource.from_contents(DOC, default_specification=DRAFT202012)
    return jsonschema.Draft202012Validator(
        {"$ref": f"{uri}#{pointer}"},
        registry=Registry().with_resource(uri, resource),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def test_the_committed_catalogue_is_what_the_cli_generates() -> None:
    generated = subprocess.run(
        [sys.executable, "-m", "accord", "asyncapi"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    ).stdout
    assert DOCUMENT.read_text() == generated, (
        "docs/asyncapi.yaml is out of date with the contracts: run `accord asyncapi --write`"
    )


def test_render_is_the_yaml_of_the_document() -> None:
    assert yaml.safe_load(render(PUBLISHED)) == DOC


def test_the_catalogue_validates_against_the_asyncapi_3_schema() -> None:
    assert DOC["asyncapi"] == "3.0.0"
    assert asyncapi_errors(DOC) == []


def test_every_reference_in_the_catalogue_resolves() -> None:
    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return own + [ref for value in node.values() for ref in refs(value)]
        if isinstance(node, list):
            return [ref for item in node for ref in refs(item)]
        return []

    found = refs(DOC)
    assert found
    for ref in found:
        assert ref.startswith("#/"), ref
        target: Any = DOC
        for part in ref[2:].split("/"):
            assert isinstance(target, dict) and part in target, f"{ref} does not resolve"
            target = target[part]


def test_every_topic_is_a_channel_with_a_receive_operation_for_its_events() -> None:
    topics = {spec.topic for spec in PUBLISHED}
    channels = {channel["address"]: name for name, channel in DOC["channels"].items()}
    assert set(channels) == topics
    for topic, channel in channels.items():
        operations = [
            op
            for op in DOC["operations"].values()
            if op["channel"]["$ref"] == f"#/channels/{channel}"
        ]
        assert [op["action"] for op in operations] == ["receive"], topic
        listed = {ref["$ref"].rsplit("/", 1)[1] for ref in operations[0]["messages"]}
        assert listed == set(DOC["channels"][channel]["messages"]), topic


@pytest.mark.parametrize("spec", PUBLISHED, ids=lambda spec: spec.ce_type)
def test_each_event_type_is_a_message_on_its_topic_with_its_json_schema(spec: ContractSpec) -> None:
    message = DOC["components"]["messages"][spec.ce_type]
    channel = DOC["channels"][spec.service]
    assert channel["address"] == spec.topic
    assert channel["messages"][f"{spec.name}.v{spec.version}"] == {
        "$ref": f"#/components/messages/{spec.ce_type}"
    }
    assert message["payload"]["title"] == spec.ce_type
    assert set(message["payload"]["required"]) == set(spec.json_schema().get("required", []))
    assert "string" in message["bindings"]["kafka"]["key"]["type"]
    assert "contract id" in message["bindings"]["kafka"]["key"]["description"]


@pytest.mark.parametrize("spec", PUBLISHED, ids=lambda spec: spec.ce_type)
def test_each_message_accepts_what_the_relay_publishes_and_rejects_what_breaks_it(
    spec: ContractSpec,
) -> None:
    """A real envelope through the real Kafka encoding validates against headers and payload."""
    assert spec.example is not None
    data = spec.to_data(spec.example)
    envelope = Envelope(
        id="0b6f2c1e-8a4d-5e3f-9c7b-2d1e0f9a8b7c",
        type=spec.ce_type,
        source=f"/accord/{spec.service}",
        subject="2f0c6a1e-4b8d-4c55-9e7a-1d2b3c4d5e6f",
        time=datetime(2025, 1, 15, 9, 30, tzinfo=UTC),
        key=str(data.get("contract_id", "")),
        data=data,
        actor_id="alice",
        actor_role="client_decision_maker",
        correlation_id="c0ffee00-0000-4000-8000-000000000001",
        causation_id="c0ffee00-0000-4000-8000-000000000001",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        sequence=3,
    )
    _, value, raw_headers = to_kafka(envelope)
    headers = {name: raw.decode() for name, raw in raw_headers}
    pointer = f"/components/messages/{spec.ce_type}"
    headers_schema = validator_at(f"{pointer}/headers")
    payload_schema_ = validator_at(f"{pointer}/payload")
    assert list(headers_schema.iter_errors(headers)) == []
    assert list(payload_schema_.iter_errors(json.loads(value))) == []

    for example in DOC["components"]["messages"][spec.ce_type]["examples"]:
        assert list(headers_schema.iter_errors(example["headers"])) == []
        assert list(payload_schema_.iter_errors(example["payload"])) == []

    assert not headers_schema.is_valid({k: v for k, v in headers.items() if k != "ce_id"})
    assert not headers_schema.is_valid({**headers, "ce_type": "accord.other.Thing.v1"})
    required = spec.json_schema().get("required", [])
    if required:
        assert not payload_schema_.is_valid({k: v for k, v in data.items() if k != required[0]})


# ---- the check can fail ---------------------------------------------------------------------


def test_a_broken_catalogue_fails_the_asyncapi_schema() -> None:
    broken = copy.deepcopy(DOC)
    channel = next(iter(broken["channels"].values()))
    channel["adress"] = channel.pop("address")
    next(iter(broken["operations"].values()))["action"] = "consume"
    problems = asyncapi_errors(broken)
    assert len(problems) >= 2, problems


def test_a_recursive_contract_is_refused_with_a_clear_error() -> None:
    class Step(EventContract):
        then: list[Step] = Field(default_factory=list)

    class Plan(EventContract):
        first: Step

    spec = ContractSpec("testkit", "PlanMade", 1, Plan)
    with pytest.raises(ValueError, match="recursive schema Step -> Step"):
        payload_schema(spec)
