"""The services keep loaded aggregates (ACCORD_AGGREGATE_CACHE_SIZE): a command still sees what
any other process stored since, and one that fails leaves nothing of itself behind. The stock
path (0: every load replays the stored events) is held to the same story.

Where one application is its store's only writer (the embedded default's in-process bus), the
cache is kept by its own saves instead of read up to date on every load
(ACCORD_AGGREGATE_CACHE_FASTFORWARD unset or false): the same story holds, without the reads."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import UUID

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


@pytest.fixture(params=[None, True], ids=["own-saves", "fastforward"])
async def sole_writer(
    database_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[Elicitation]:
    """One elicitation application, the only writer of its store: unset, its cache is kept by
    its saves; ACCORD_AGGREGATE_CACHE_FASTFORWARD=true reads it up to date all the same."""
    settings = Settings(
        database_url=await own_database(database_url), aggregate_cache_fastforward=request.param
    )
    app = build_application(Elicitation, "elicitation", settings, sole_writer=True)
    assert app.repository.fastforward is bool(request.param)
    yield app
    app.close()


@pytest.fixture
def behind_its_back(sole_writer: Elicitation) -> Iterator[Elicitation]:
    """A second application on the same store, no cache: what the sole writer's setting assumes
    never happens. What it stores shows whether the sole writer read the store since."""
    other = Elicitation(env=dict(sole_writer.env, AGGREGATE_CACHE_MAXSIZE="0"))
    yield other
    other.close()


def join(app: Elicitation, contract: str, person: str) -> None:
    with acting_as(SPONSOR, "client_sponsor"):
        app.join_contract(
            contract, by=SPONSOR, person_id=person, name=person, role="client_decision_maker"
        )


async def test_a_sole_writer_works_on_what_it_saved_last_reading_nothing_when_kept(
    sole_writer: Elicitation, behind_its_back: Elicitation
) -> None:
    contract = open_contract(sole_writer)
    for n, person in enumerate(["dm1", "dm2", "dm3"], start=1):
        join(sole_writer, contract, person)
        assert people(sole_writer, contract) == {
            "am",
            SPONSOR,
            *[f"dm{i}" for i in range(1, n + 1)],
        }
    # What is kept is what the store holds: a fresh application rebuilds the same contract.
    assert people(behind_its_back, contract) == {"am", SPONSOR, "dm1", "dm2", "dm3"}
    assert behind_its_back._contract(contract).version == sole_writer._contract(contract).version
    # Kept by its saves, the contract is never read back from the store: a join stored behind
    # its back goes unseen; read up to date on every load, it is seen.
    join(behind_its_back, contract, "dm4")
    seen = "dm4" in people(sole_writer, contract)
    assert seen is sole_writer.repository.fastforward


async def test_a_sole_writer_reads_what_it_just_created_once_when_first_asked_for(
    sole_writer: Elicitation, behind_its_back: Elicitation
) -> None:
    with acting_as("am", "provider_account_manager"):
        opened = sole_writer.open_contract(
            by="am", client_organisation="Northwind", provider_organisation="Contoso",
            title="Support", starts_on="2027-01-01", name="Ann", role="provider_account_manager",
        )  # fmt: skip
        behind_its_back.join_contract(
            opened.id, by="am", person_id=SPONSOR, name="Eve", role="client_sponsor"
        )
    contract = str(opened.id)
    # Left out of the cache when saved, it is read from the store when first asked for...
    assert people(sole_writer, contract) == {"am", SPONSOR}
    # ...then kept by its saves (a join behind its back unseen), or read up to date again.
    join(behind_its_back, contract, "dm1")
    seen = "dm1" in people(sole_writer, contract)
    assert seen is sole_writer.repository.fastforward


async def test_what_a_command_does_after_saving_stays_out_of_the_cache(
    sole_writer: Elicitation,
) -> None:
    contract_id = open_contract(sole_writer)
    contract = sole_writer._contract(contract_id)
    newcomer = participant(person_id="dm1", name="Dee", role="client_decision_maker")
    contract.join(newcomer, by=SPONSOR)
    with acting_as(SPONSOR, "client_sponsor"):
        sole_writer.save(contract)
    saved = contract.version
    # The same object changed again after its save, and never saved (the command failed).
    later = participant(person_id="dm2", name="Dan", role="client_decision_maker")
    contract.join(later, by=SPONSOR)
    assert people(sole_writer, contract_id) == {"am", SPONSOR, "dm1"}
    assert sole_writer._contract(contract_id).version == saved


async def test_a_command_that_fails_leaves_the_loaded_aggregate_as_it_was(
    two_processes: tuple[Elicitation, Elicitation],
) -> None:
    fails_and_leaves_nothing(two_processes[0])


async def test_a_failed_command_leaves_nothing_of_itself_with_a_sole_writer_either(
    sole_writer: Elicitation,
) -> None:
    fails_and_leaves_nothing(sole_writer)


def fails_and_leaves_nothing(first: Elicitation) -> None:
    contract_id = open_contract(first)
    contract = first._contract(contract_id)
    stored = contract.version
    newcomer = participant(person_id="dm1", name="Dee", role="client_decision_maker")
    contract.join(newcomer, by=SPONSOR)  # changed in hand, never saved (the command failed)
    assert "dm1" in {p.person_id for p in contract.participants.values()}
    assert people(first, contract_id) == {"am", SPONSOR}
    assert first._contract(contract_id).version == stored


async def test_a_load_that_read_the_store_before_a_save_leaves_no_older_copy_after_it(
    sole_writer: Elicitation,
) -> None:
    """Threads of one process: a load misses the cache and reads the store; another command
    saves the next version meanwhile; then the load puts what it read. Kept in the cache, that
    older copy would make every later command on the contract lose its save to the version
    stored (found as a refinement of twelve at once refused with the wrong reason)."""
    contract = open_contract(sole_writer)
    repository = sole_writer.repository
    with contextlib.suppress(KeyError):
        repository.cache.get(UUID(contract), evict=True)  # the next load reads the store
    reading = repository._reconstruct_aggregate

    def read_then_another_saves(*args: Any) -> Any:
        repository._reconstruct_aggregate = reading  # type: ignore[method-assign]
        read = reading(*args)
        join(sole_writer, contract, "dm1")  # the other command, in the meantime
        return read

    repository._reconstruct_aggregate = read_then_another_saves  # type: ignore[method-assign]
    assert people(sole_writer, contract) == {"am", SPONSOR}  # what that load read
    assert people(sole_writer, contract) == {"am", SPONSOR, "dm1"}  # not kept after the save
    join(sole_writer, contract, "dm2")  # and it changes on
    assert people(sole_writer, contract) == {"am", SPONSOR, "dm1", "dm2"}


async def test_a_save_that_keeps_its_copy_late_does_not_undo_a_later_save(
    sole_writer: Elicitation,
) -> None:
    """A save puts its copy in the cache after its commit; a thread paused in between may put
    it after a later command saved and put the next version: the newer one stays."""
    contract = open_contract(sole_writer)
    first_saved = sole_writer._contract(contract)
    join(sole_writer, contract, "dm1")
    sole_writer.repository.cache.put(first_saved.id, first_saved)  # the earlier save's, late
    assert people(sole_writer, contract) == {"am", SPONSOR, "dm1"}
    join(sole_writer, contract, "dm2")
    assert people(sole_writer, contract) == {"am", SPONSOR, "dm1", "dm2"}
