"""The closed sets that commands take (declared once, in shared/commands/) as GraphQL enums,
each described by its declaration's docstring. Registered before any type that uses one is
made (imported by the package), so every use of an enum shares the one description."""

from __future__ import annotations

import inspect
from enum import Enum

import strawberry

from shared.commands.catalogue import DECLARING


def described_enums() -> list[type[Enum]]:
    """Every enum declared in a command module, registered with its docstring."""
    found: list[type[Enum]] = []
    for module in DECLARING:
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, Enum)
                and value.__module__ == module.__name__
                and value not in found
            ):
                strawberry.enum(value, description=inspect.getdoc(value))
                found.append(value)
    return found


ENUMS = described_enums()
