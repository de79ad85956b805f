"""The registry that maps each CloudEvents type to its contract class and version."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

CE_TYPE = re.compile(r"^accord\.(?P<service>[a-z_]+)\.(?P<name>[A-Z][A-Za-z]+)\.v(?P<version>\d+)$")


class EventContract(BaseModel):
    """Base of every published event's data: JSON only, unknown fields dropped."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class UnknownEventType(LookupError):
    """A `ce_type` that no contract is registered for."""


class ContractViolation(ValueError):
    """Event data that does not satisfy its registered contract."""


@dataclass(frozen=True)
class ContractSpec:
    """One registered event type: service, name, version and the model of its data."""

    service: str
    name: str
    version: int
    model: type[EventContract]
    description: str = ""
    # A valid instance of the data, published in the schema and checked by the tests.
    example: Mapping[str, Any] | None = None
    # For one fact stored on several aggregates, the fields naming them: the outbox relay
    # publishes it once, from the first one's stream, with the others as its `copies`.
    stored_on: tuple[str, ...] = ()

    @property
    def ce_type(self) -> str:
        return f"accord.{self.service}.{self.name}.v{self.version}"

    @property
    def topic(self) -> str:
        return topic_for(self.service)

    def json_schema(self) -> dict[str, Any]:
        schema = self.model.model_json_schema()
        schema["$id"] = self.ce_type
        schema["title"] = self.ce_type
        if self.description:
            schema["description"] = self.description
        if self.example is not None:
            schema["examples"] = [dict(self.example)]
        return schema

    def to_data(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Validate fields against the contract and give its JSON data (nothing else)."""
        try:
            return self.model.model_validate(dict(fields)).model_dump(mode="json")
        except ValidationError as error:
            raise ContractViolation(f"{self.ce_type}: {error}") from error

    def parse(self, data: Any) -> EventContract:
        try:
            return self.model.model_validate(data)
        except ValidationError as error:
            raise ContractViolation(f"{self.ce_type}: {error}") from error


def topic_for(service: str) -> str:
    """The Kafka topic a service publishes to."""
    return f"accord.{service}.v1"


class ContractRegistry:
    """Every published event type, by `ce_type` and by (service, name)."""

    def __init__(self) -> None:
        self._by_type: dict[str, ContractSpec] = {}
        self._latest: dict[tuple[str, str], ContractSpec] = {}

    def register(self, spec: ContractSpec) -> None:
        existing = self._by_type.get(spec.ce_type)
        if existing is not None and existing.model is not spec.model:
            raise ValueError(f"{spec.ce_type} is already registered to {existing.model.__name__}")
        self._by_type[spec.ce_type] = spec
        key = (spec.service, spec.name)
        if key not in self._latest or self._latest[key].version < spec.version:
            self._latest[key] = spec

    def lookup(self, ce_type: str) -> ContractSpec:
        try:
            return self._by_type[ce_type]
        except KeyError:
            raise UnknownEventType(f"no contract is registered for ce_type {ce_type!r}") from None

    def latest(self, service: str, name: str) -> ContractSpec:
        try:
            return self._latest[(service, name)]
        except KeyError:
            raise UnknownEventType(f"no contract is registered for {service}.{name}") from None

    def __iter__(self) -> Iterator[ContractSpec]:
        return iter(sorted(self._by_type.values(), key=lambda spec: spec.ce_type))

    def for_service(self, service: str) -> list[ContractSpec]:
        return [spec for spec in self if spec.service == service]


registry = ContractRegistry()

C = TypeVar("C", bound=type[EventContract])


def contract(
    service: str,
    name: str,
    version: int = 1,
    *,
    example: Mapping[str, Any] | None = None,
    stored_on: tuple[str, ...] = (),
) -> Callable[[C], C]:
    """Register the decorated model as the data of `accord.<service>.<name>.v<version>`."""

    def register(model: C) -> C:
        description = (model.__doc__ or "").strip()
        spec = ContractSpec(service, name, version, model, description, example, stored_on)
        registry.register(spec)
        return model

    return register
