"""The event catalogue for outside consumers: an AsyncAPI 3.0 document built from the registry."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import yaml

from shared.envelope import CONTENT_TYPE, SPEC_VERSION
from shared.schemas import registry
from shared.schemas.registry import ContractSpec, topic_for

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
# Where `accord asyncapi --write` puts the catalogue; a test fails when it drifts from the code.
DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.yaml"
HEADERS_SCHEMA = "CloudEventsHeaders"

_PREAMBLE = (
    "# Accord's event catalogue (AsyncAPI 3.0), generated from shared/schemas.\n"
    "# Do not edit by hand: run `accord asyncapi --write`.\n"
)

_DESCRIPTION = """\
The events Accord publishes to Kafka, for enterprise systems that consume them.

Every service publishes to one topic, `accord.<service>.v1`. Each message is a CloudEvent 1.0
in Kafka binary mode: the attributes travel as `ce_*` record headers (UTF-8 strings), the
value is the event's JSON data, and the record key is the contract id, so every event of one
contract lands in one partition, in order.

Delivery is at least once: a message can repeat (after a crash, or a republish) but is never
lost. `ce_id` is the same every time one event is published, so drop repeats by `ce_id`.
`ce_subject` is the aggregate that changed and `ce_sequence` its version after the event.
Topics keep everything (`retention.ms=-1`): a new consumer can read from the beginning.

Tamper evidence: each record carries its hash, its predecessor's in its aggregate and its
position in its service's log (`ce_accordhash`, `ce_accordprevhash`, `ce_accordposition`).
A fact stored on several aggregates is one record: its other stored copies ride in
`ce_accordcopies`, each with its own subject, sequence, position and hashes.
`accord.audit.v1` carries each service's signed checkpoints: check the Ed25519 signature with
the key Accord publishes (GET /audit/public-key), then the Merkle root against the records.

Versioning: a breaking change to an event publishes a new type (`...v2`) beside the old one;
fields may be added to an existing version, so ignore fields you do not know.

This document describes a consumer: its operations `receive` from the topics."""

_KEY_DESCRIPTION = (
    "The contract id (UTF-8), so one contract's events stay in order in one partition. "
    "An event that belongs to no contract is keyed by its `ce_subject`: its aggregate id, or "
    "for a checkpoint the service whose log it covers."
)
# What each channel carries, where "every event the service publishes" would mislead.
_CHANNEL_DESCRIPTIONS = {
    "audit": "Each service's log, signed on a schedule (and by `accord audit checkpoint`): "
    "a Merkle root over its events in log order, keyed by the service's name.",
}


def accord_version() -> str:
    try:
        return package_version("accord")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def build_document(contracts: Iterable[ContractSpec] = registry) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every registered event type, one channel per topic."""
    by_service: dict[str, list[ContractSpec]] = {}
    for spec in sorted(contracts, key=lambda spec: spec.ce_type):
        by_service.setdefault(spec.service, []).append(spec)

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for service, specs in sorted(by_service.items()):
        topic = topic_for(service)
        channel_messages = {}
        for spec in specs:
            messages[spec.ce_type] = _message(spec)
            channel_messages[_message_id(spec)] = {"$ref": f"#/components/messages/{spec.ce_type}"}
        channels[service] = {
            "address": topic,
            "title": topic,
            "description": _CHANNEL_DESCRIPTIONS.get(
                service, f"Every event the {service} service publishes, in CloudEvents form."
            ),
            "messages": channel_messages,
            "bindings": {
                "kafka": {
                    "topic": topic,
                    "topicConfiguration": {
                        "cleanup.policy": ["delete"],
                        "retention.ms": -1,
                        "retention.bytes": -1,
                    },
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
        operations[f"receive_{service}_events"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{service}"},
            "title": f"Consume {topic}",
            "summary": f"Read the {service} service's events, in order per contract.",
            "messages": [
                {"$ref": f"#/channels/{service}/messages/{_message_id(spec)}"} for spec in specs
            ],
            "bindings": {
                "kafka": {
                    "groupId": {
                        "type": "string",
                        "description": "Your own consumer group; the `accord-*` groups are "
                        "Accord's own.",
                    },
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Accord events",
            "version": accord_version(),
            "description": _DESCRIPTION,
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "kafka": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "The Kafka cluster of an Accord deployment.",
                "variables": {
                    "bootstrap": {
                        "default": "kafka:9092",
                        "description": "Bootstrap servers: the deployment's "
                        "ACCORD_KAFKA_BOOTSTRAP.",
                    }
                },
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {HEADERS_SCHEMA: cloudevents_headers()},
            "messages": messages,
        },
    }


def render(contracts: Iterable[ContractSpec] = registry) -> str:
    """The document as YAML, exactly as docs/asyncapi.yaml holds it."""
    body = yaml.dump(
        build_document(contracts),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return _PREAMBLE + body


class _Dumper(yaml.SafeDumper):
    """Safe YAML, with multi-line text as literal blocks so the file reads like the source."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def write(path: Path = DOCUMENT) -> Path:
    """Write the rendered document (docs/asyncapi.yaml by default)."""
    path.write_text(render(), encoding="utf-8")
    return path


def cloudevents_headers() -> dict[str, Any]:
    """The `ce_*` Kafka headers every message carries (CloudEvents 1.0 Kafka binding)."""
    text = {"type": "string"}
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes and Accord's extensions, each a Kafka "
        "record header holding a UTF-8 string.",
        "required": ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time"],
        "properties": {
            "ce_specversion": {**text, "const": SPEC_VERSION},
            "ce_id": {
                **text,
                "format": "uuid",
                "description": "The event's id, the same on every (re)publication: "
                "de-duplicate by it.",
            },
            "ce_type": {
                **text,
                "pattern": r"^accord\.[a-z_]+\.[A-Z][A-Za-z]+\.v[0-9]+$",
                "description": "accord.<service>.<EventName>.v<N>: which schema the data has.",
            },
            "ce_source": {
                **text,
                "pattern": "^/accord/[a-z_]+$",
                "description": "/accord/<service>",
            },
            "ce_subject": {
                **text,
                "description": "The id of the aggregate that changed (for a checkpoint: the "
                "service whose log it covers).",
            },
            "ce_time": {
                **text,
                "format": "date-time",
                "description": "When the event happened (RFC 3339, UTC).",
            },
            "ce_sequence": {
                **text,
                "pattern": "^[1-9][0-9]*$",
                "description": "The aggregate's version after this event (decimal); orders "
                "one aggregate's events.",
            },
            "ce_actorid": {**text, "description": "Who caused the event."},
            "ce_actorrole": {**text, "description": "The role they acted in."},
            "ce_correlationid": {
                **text,
                "description": "Shared by every event that one request caused.",
            },
            "ce_causationid": {
                **text,
                "description": "The command or event that caused this one.",
            },
            "ce_accordhash": {
                **text,
                "pattern": "^[0-9a-f]{64}$",
                "description": "Tamper evidence: the event's SHA-256 as stored, chained to its "
                "aggregate's previous event (absent for events stored before chaining).",
            },
            "ce_accordprevhash": {
                **text,
                "pattern": "^[0-9a-f]{64}$",
                "description": "The ce_accordhash of the same ce_subject's previous ce_sequence "
                "(64 zeros for a first version): a record that does not follow is not Accord's.",
            },
            "ce_accordposition": {
                **text,
                "pattern": "^[1-9][0-9]*$",
                "description": "The event's position in its service's log (decimal): the "
                "order of the leaves of the Merkle root a checkpoint signs.",
            },
            "ce_accordcopies": {
                **text,
                "contentMediaType": "application/json",
                "description": "Only on a fact stored on several aggregates (today "
                "ExpectationsMerged, stored on the kept and the merged expectation): published "
                "once, from the first; this JSON array names each other stored copy as "
                '{"id", "subject", "sequence", "position", "time", "hash", "prevhash"} (its '
                "ce_id, ce_subject, ce_sequence, ce_accordposition, ce_time, ce_accordhash, "
                "ce_accordprevhash). Check each copy's chain and checkpoint place as a record's.",
            },
            "traceparent": {
                **text,
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C trace context of the request that caused the event.",
            },
            "content-type": {**text, "const": CONTENT_TYPE},
        },
    }


def _message_id(spec: ContractSpec) -> str:
    return f"{spec.name}.v{spec.version}"


def _message(spec: ContractSpec) -> dict[str, Any]:
    description = spec.description or spec.name
    message: dict[str, Any] = {
        "name": spec.name,
        "title": f"{spec.name} v{spec.version}",
        "summary": description.splitlines()[0],
        "description": f"{description}\n\n`ce_type`: `{spec.ce_type}`",
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "allOf": [
                {"$ref": f"#/components/schemas/{HEADERS_SCHEMA}"},
                {
                    "properties": {
                        "ce_type": {"const": spec.ce_type},
                        "ce_source": {"const": f"/accord/{spec.service}"},
                    }
                },
            ],
        },
        "payload": payload_schema(spec),
        "correlationId": {
            "description": "Shared by every event that one request caused.",
            "location": "$message.header#/ce_correlationid",
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": _KEY_DESCRIPTION},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
    if spec.example is not None:
        message["examples"] = [
            {
                "name": spec.name,
                "headers": _example_headers(spec),
                "payload": dict(spec.example),
            }
        ]
    return message


def payload_schema(spec: ContractSpec) -> dict[str, Any]:
    """The contract's JSON Schema, self-contained: local `$defs` inlined, no `$id`."""
    schema = spec.json_schema()
    definitions = schema.pop("$defs", {})
    schema.pop("$id", None)
    inlined = _inline(schema, definitions, ())
    assert isinstance(inlined, dict)
    return inlined


def _inline(node: Any, definitions: Mapping[str, Any], seen: tuple[str, ...]) -> Any:
    """Replace each `{"$ref": "#/$defs/X"}` with X itself (sibling keywords kept)."""
    if isinstance(node, list):
        return [_inline(item, definitions, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        if name in seen:
            # A recursive contract cannot be inlined; publishing one needs hoisted schemas.
            raise ValueError(f"recursive schema {' -> '.join((*seen, name))} cannot be inlined")
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        target = _inline(copy.deepcopy(definitions[name]), definitions, (*seen, name))
        return {**target, **_inline(siblings, definitions, seen)}
    return {key: _inline(value, definitions, seen) for key, value in node.items()}


def _example_headers(spec: ContractSpec) -> dict[str, str]:
    """Illustrative headers for the message's example; the ids are made up."""
    if spec.service == "audit":
        return {
            "ce_specversion": SPEC_VERSION,
            "ce_id": "5b1f0a53-0c6e-5d27-8f3a-6e4d2c1b0a99",
            "ce_type": spec.ce_type,
            "ce_source": "/accord/audit",
            "ce_subject": "elicitation",
            "ce_time": "2025-01-15T09:45:00+00:00",
            "content-type": CONTENT_TYPE,
        }
    return {
        "ce_specversion": SPEC_VERSION,
        "ce_id": "7d3c1c62-9d1e-5b7e-9a3f-0c2f4b7d1e55",
        "ce_type": spec.ce_type,
        "ce_source": f"/accord/{spec.service}",
        "ce_subject": "2f0c6a1e-4b8d-4c55-9e7a-1d2b3c4d5e6f",
        "ce_time": "2025-01-15T09:30:00+00:00",
        "ce_sequence": "2",
        "ce_accordposition": "2199024304130",
        "ce_actorid": "alice",
        "ce_actorrole": "client_decision_maker",
        "ce_correlationid": "c0ffee00-0000-4000-8000-000000000001",
        "ce_causationid": "c0ffee00-0000-4000-8000-000000000001",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "content-type": CONTENT_TYPE,
    }
