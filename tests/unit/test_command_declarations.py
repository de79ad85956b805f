"""Each command is declared once (shared/commands/), and everything else follows from that:
the service's route, the gateway's mutation and its input, the guide's table of commands."""

from __future__ import annotations

import pytest
from graphql import GraphQLInputObjectType, GraphQLNonNull, get_named_type
from starlette.routing import Route
from strawberry.utils.str_converters import to_camel_case

from services.elicitation.api import ROUTES as ELICITATION_ROUTES
from services.gateway.schema import schema
from services.notifications.api import ROUTES as NOTIFICATIONS_ROUTES
from services.ranking.api import ROUTES as RANKING_ROUTES
from shared.commands.catalogue import COMMANDS, GUIDE, guide_with_table
from shared.commands.declaration import Body, Command
from shared.schemas.registry import registry

ROUTES = {
    "elicitation": ELICITATION_ROUTES,
    "ranking": RANKING_ROUTES,
    "notifications": NOTIFICATIONS_ROUTES,
}


def named(declared: Command[Body]) -> str:
    return declared.mutation


@pytest.mark.parametrize("declared", COMMANDS, ids=named)
def test_each_command_is_a_documented_mutation_taking_its_declared_fields(
    declared: Command[Body],
) -> None:
    mutation = schema._schema.mutation_type
    assert mutation is not None
    field = mutation.fields.get(declared.mutation)
    assert field is not None, f"no mutation {declared.mutation}"
    assert field.description == declared.description
    given = get_named_type(field.args["input"].type)
    assert isinstance(given, GraphQLInputObjectType)
    expected = [*declared.segments, *declared.body.model_fields]
    assert sorted(given.fields) == sorted(to_camel_case(name) for name in expected)
    for segment in declared.segments:
        assert isinstance(given.fields[to_camel_case(segment)].type, GraphQLNonNull)


@pytest.mark.parametrize("declared", COMMANDS, ids=named)
def test_each_command_has_its_route_in_its_service(declared: Command[Body]) -> None:
    routes = [r for r in ROUTES[declared.service] if isinstance(r, Route)]
    assert any(r.path == declared.path and "POST" in (r.methods or ()) for r in routes)


@pytest.mark.parametrize("declared", COMMANDS, ids=named)
def test_the_events_a_command_may_store_are_published_contracts(declared: Command[Body]) -> None:
    published = {(spec.service, spec.name) for spec in registry}
    assert declared.events, "say which events the command may store"
    assert {(declared.service, event) for event in declared.events} <= published


def test_the_guide_lists_every_command_as_declared() -> None:
    guide = GUIDE.read_text()
    assert guide_with_table(guide) == guide, "commands changed: run `accord sdl --write`"
    assert all(f"`{declared.mutation}`" in guide for declared in COMMANDS)


def test_names_are_one_in_every_layer() -> None:
    names = [declared.name for declared in COMMANDS]
    assert len(names) == len(set(names))
    assert all(name == name.lower() and " " not in name for name in names)
