"""docs/consumers.md names only topics, headers, event types and fields that Accord publishes."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime

from accord.processes import Process
from shared.envelope import Envelope, StoredCopy, to_kafka
from shared.schemas import registry
from shared.schemas.registry import topic_for
from tests.deploy.artifacts import ROOT

GUIDE = (ROOT / "docs" / "consumers.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE, flags=re.DOTALL)


def published_headers() -> set[str]:
    """The header names of a message whose every optional attribute is set."""
    envelope = Envelope(
        id="i", type="t", source="s", subject="a", time=datetime.now(UTC), key="k", data={},
        actor_id="x", actor_role="r", correlation_id="c", causation_id="c",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", sequence=1,
        chain_hash="ab" * 32, previous_hash="00" * 32, position=2199024304130,
        copies=(StoredCopy("j", "b", 2, 2199024304131, datetime.now(UTC), "cd" * 32, "00" * 32),),
    )  # fmt: skip
    return {name for name, _ in to_kafka(envelope)[2]}


def test_the_python_example_is_valid_python() -> None:
    blocks = code_blocks("python")
    assert blocks
    for block in blocks:
        ast.parse(block)


def test_every_header_the_guide_names_is_one_accord_publishes() -> None:
    named = set(re.findall(r"\b(ce_[a-z]+)\b", GUIDE))
    assert {"ce_id", "ce_type", "ce_sequence"} <= named
    assert named <= published_headers(), named - published_headers()


def test_every_topic_the_guide_names_is_a_service_topic() -> None:
    topics = {topic_for(p.value) for p in Process if p is not Process.gateway}
    topics.add(topic_for("audit"))  # the services' signed checkpoints
    named = set(re.findall(r"accord\.[a-z_]+\.v\d+", GUIDE))
    assert "accord.elicitation.v1" in named
    assert named <= topics, named - topics


def test_every_event_type_and_field_the_examples_use_is_registered() -> None:
    code = "\n".join(code_blocks("python") + code_blocks("java"))
    types = set(re.findall(r"accord\.[a-z_]+\.[A-Z][A-Za-z]+\.v\d+", code))
    assert types
    properties: set[str] = set()
    for ce_type in types:
        properties |= set(registry.lookup(ce_type).json_schema()["properties"])
    fields = set(re.findall(r'data\["(\w+)"\]', code))
    assert fields
    assert fields <= properties, fields - properties
