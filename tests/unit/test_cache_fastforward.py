"""How a service keeps its cached aggregates current (ACCORD_AGGREGATE_CACHE_FASTFORWARD): by its
own saves only where it is its store's only writer, unless told; told so where others may write,
it says so once, as a warning."""

from __future__ import annotations

import logging

import pytest

from shared.eventstore import cache_fastforward
from shared.settings import Settings


@pytest.mark.parametrize(
    ("setting", "sole_writer", "fastforward"),
    [(None, True, False), (None, False, True), (True, True, True), (False, True, False)],
)
def test_unset_it_follows_whether_the_service_is_its_stores_only_writer(
    setting: bool | None, sole_writer: bool, fastforward: bool, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(aggregate_cache_fastforward=setting)
    assert cache_fastforward(settings, "elicitation", sole_writer=sole_writer) is fastforward
    assert caplog.records == []


def test_kept_by_its_own_saves_where_others_may_write_is_said_as_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(aggregate_cache_fastforward=False)
    with caplog.at_level(logging.INFO):
        assert cache_fastforward(settings, "ranking", sole_writer=False) is False
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("ranking: ACCORD_AGGREGATE_CACHE_FASTFORWARD=false")
