"""The IDE opens on an Accord example that runs against the schema as it is, and says where
the token goes and how to mint one."""

from __future__ import annotations

from graphql import parse, validate

from services.gateway.app import IDE_EXAMPLE, IDE_HEADERS
from services.gateway.schema import schema


def test_the_ide_example_is_valid_against_the_schema() -> None:
    assert validate(schema._schema, parse(IDE_EXAMPLE)) == []


def test_the_ide_example_reads_contracts_with_expectations_and_shows_a_mutation() -> None:
    operations = [d.name.value for d in parse(IDE_EXAMPLE).definitions if d.name]  # type: ignore[attr-defined]
    assert operations == ["Contracts", "ProposeExpectation"]
    assert "expectations" in IDE_EXAMPLE


def test_the_ide_says_how_to_set_the_authorization_header_and_mint_a_token() -> None:
    assert "accord token am" in IDE_EXAMPLE
    assert '"Authorization": "Bearer' in IDE_EXAMPLE
    assert '"Authorization": "Bearer' in IDE_HEADERS
