"""The services keep loaded aggregates (ACCORD_AGGREGATE_CACHE_SIZE): a command still sees what
any other process stored since, and one that fails leaves nothing of itself behind. The stock
path (0: every load replays the stored events) is held to the same story."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.elicitation.application import Elicitation
from services.elicitation.contract import participant
from shared.eventstore import build_application
from shared.provenance import acting_as
from shared.settings import Settings
from tests.integration.services_in_one import own_database

SPONSOR = "ceo"


@pytest.fixture(params=[1000, 0], ids=["cached", "stock"])
async def two_processes(
    database_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Elicitation, Elicitation]]:
    """Two elicitation applications on one event store, as two processes of the service."""
    settings = Settings(
        database_url=await own_database(database_url), aggregate_cache_size=request.param
    )
    first = build_application(Elicitation, "elicitation", settings)
    second = build_application(Elicitation, "elicitation", settings)
    assert (first.repository.cache is not None) == bool(request.param)
    yield first, second
    first.close()
    second.close()


def open_contract(app: Elicitation) -> str:
    with acting_as("am", "provider_account_manager"):
        opened = app.open_contract(
            by="am", client_organisation="Northwind", provider_organisation="Contoso",
            title="Support", starts_on="2027-01-01", name="Ann", role="provider_account_manager",
        )  # fmt: skip
        app.join_contract(opened.id, by="am", person_id=SPONSOR, name="Eve", role="client_sponsor")
    return str(opened.id)


def people(app: Elicitation, contract_id: str) -> set[str]:
    return {p.person_id for p in app._contract(contract_id).participants.values()}


async def test_a_load_sees_what_another_process_stored_since(
    two_processes: tuple[Elicitation, Elicitation],
) -> None:
    first, second = two_processes
    contract = open_contract(first)
    assert people(first, contract) == {"am", SPONSOR}  # loaded (and, cached, kept) here
    opened = first._contract(contract).version
    with acting_as(SPONSOR, "client_sponsor"):
        second.join_contract(
            contract, by=SPONSOR, person_id="dm1", name="Dee", role="client_decision_maker"
        )
    # The first process's next command works on the contract as the second left it...
    assert people(first, contract) == {"am", SPONSOR, "dm1"}
    with acting_as(SPONSOR, "client_sponsor"):
        joined = first.join_contract(
            contract, by=SPONSOR, person_id="dm2", name="Dan", role="client_decision_maker"
        )
    # ...and stores its events after the second's, not over them.
    assert joined.version == opened + 2
    assert people(second, contract) == {"am", SPONSOR, "dm1", "dm2"}


async def test_a_command_that_fails_leaves_the_loaded_aggregate_as_it_was(
    two_processes: tuple[Elicitation, Elicitation],
) -> None:
    first, _ = two_processes
    contract_id = open_contract(first)
    contract = first._contract(contract_id)
    stored = contract.version
    newcomer = participant(person_id="dm1", name="Dee", role="client_decision_maker")
    contract.join(newcomer, by=SPONSOR)  # changed in hand, never saved (the command failed)
    assert "dm1" in {p.person_id for p in contract.participants.values()}
    assert people(first, contract_id) == {"am", SPONSOR}
    assert first._contract(contract_id).version == stored
