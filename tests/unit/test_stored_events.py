"""Stored events decoded with orjson give what the library's transcoder gives, and the event
ids the relay publishes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from services.gateway.stored_events import fast_event_id, fields_of
from shared.event_ids import event_id
from shared.eventstore import stored_event_transcoder

_TRANSCODER = stored_event_transcoder()

# Every kind of value a stored event holds: JSON's own, and the transcoded ones, nested.
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.text(),
    st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30))])),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), _values, max_size=8))
def test_orjson_decodes_a_stored_state_as_the_library_does(fields: dict[str, Any]) -> None:
    state = _TRANSCODER.encode(fields)
    assert fields_of(state) == fields_of(state, "stock") == fields


def test_a_state_decoded_by_orjson_keeps_the_types_of_the_values() -> None:
    at = datetime(2027, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    fields = {"id": UUID(int=7), "target": Decimal("2.50"), "on": date(2027, 1, 2), "at": at}
    decoded = fields_of(_TRANSCODER.encode({"terms": [fields]}))
    assert [type(v) for v in decoded["terms"][0].values()] == [UUID, Decimal, date, datetime]
    assert str(decoded["terms"][0]["target"]) == "2.50"


@given(st.uuids(), st.integers(min_value=1, max_value=2**31))
def test_the_replay_names_each_event_with_the_id_the_relay_publishes(
    originator_id: UUID, version: int
) -> None:
    assert fast_event_id(originator_id, version) == event_id(originator_id, version)
