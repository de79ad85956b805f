"""A command, declared once: its name in every layer, the route of the service that runs it,
its JSON body, what it may store, and the sentence that documents it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict
from strawberry.utils.str_converters import to_camel_case


class Body(BaseModel):
    """A command's JSON body: unknown fields are refused, not silently dropped; every value is
    one the read models can hold (shared/values.py); the domain's own rules come after."""

    model_config = ConfigDict(extra="forbid")


B = TypeVar("B", bound=Body, covariant=True)


@dataclass(frozen=True)
class Command(Generic[B]):
    """One command of one service.

    `name` is the command's words in snake case: the application's method, the service's
    handler and the gateway's resolver carry it, and GraphQL shows it in camel case. `path` is
    the service's route; each `{segment}` is an id the gateway's input carries beside the body.
    """

    name: str
    service: str
    path: str
    body: type[B]
    description: str
    # The event types (as the registry names them) the command may store.
    events: tuple[str, ...] = ()
    # The command creates the object it acts on (a contract, an expectation...): a new id.
    creates: bool = False
    segments: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(re.findall(r"{(\w+)}", self.path)))

    @property
    def mutation(self) -> str:
        """The GraphQL mutation's name."""
        return to_camel_case(self.name)

    def route(self, **ids: str) -> str:
        """The path with its segments filled in, each quoted: a value never adds a segment."""
        return self.path.format(**{name: quote(value, safe="") for name, value in ids.items()})
