"""A store rebuild split between processes routes each stored event to one shard by the
contract read from its JSON without parsing it; where that reading and the decoded provenance
could disagree, the shard that parses the event refuses it rather than misplace it."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.gateway.store_feed import MisroutedEvent, Shard, shares_fields
from services.gateway.stored_events import key_of, parsed, stored_key
from shared.eventstore import stored_event_transcoder

TRANSCODER = stored_event_transcoder()
SHARDS = [Shard(index, 2) for index in range(2)]

# What an event's own fields may hold, as the library stores them (no key named `_meta`).
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.uuids()
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text().filter(lambda k: k != "_meta"), inner, max_size=3)
    ),
    max_leaves=8,
)
payloads = st.dictionaries(st.text().filter(lambda k: k != "_meta"), values, max_size=4)
# The provenance Accord stamps on every event: flat strings, the contract among them.
contracts = st.sampled_from(["", None]) | st.uuids().map(str)


def stored(payload: dict[str, Any], contract: str | None, class_version: int | None) -> bytes:
    """The JSON the recorder stores: the event's fields, its provenance, its class version."""
    state = dict(payload)
    meta = {"actor_id": "am", "actor_role": "provider_account_manager", "correlation_id": ""}
    if contract is not None:
        meta["contract_id"] = contract
    state["_meta"] = meta
    if class_version is not None:
        state["class_version"] = class_version
    encoded: bytes = TRANSCODER.encode(state)
    return encoded


@given(payloads, contracts, st.none() | st.integers(1, 3), st.uuids())
def test_the_contract_read_without_parsing_is_the_provenances(
    payload: dict[str, Any], contract: str | None, class_version: int | None, stream: UUID
) -> None:
    state = stored(payload, contract, class_version)
    assert stored_key(state) == (contract or "")
    key = key_of(parsed(state), str(stream))
    assert key == (contract or str(stream))
    # Exactly one shard takes it, the one its key falls in.
    taken = [shares_fields(shard, state, stream, "accord") for shard in SHARDS]
    assert sum(fields is not None for fields in taken) == 1
    assert taken[[s.holds(key) for s in SHARDS].index(True)] == parsed(state)


def test_an_event_whose_json_misleads_the_router_is_refused_by_the_shard_it_reaches() -> None:
    # A `_meta` object after the provenance (a field of a later version, say) names another
    # contract: the shard the JSON sends the event to parses it and refuses it.
    contract, other = str(uuid4()), str(uuid4())
    state = TRANSCODER.encode(
        {"_meta": {"contract_id": contract}, "extra": {"_meta": {"contract_id": other}}}
    )
    assert stored_key(state) == other
    routed_to = next(s for s in SHARDS if s.holds(other))
    elsewhere = next(s for s in SHARDS if s is not routed_to)
    assert shares_fields(elsewhere, state, uuid4(), "accord") is None
    with pytest.raises(
        MisroutedEvent, match=f"names contract {other} where its provenance names {contract}"
    ):
        shares_fields(routed_to, state, uuid4(), "accord")
