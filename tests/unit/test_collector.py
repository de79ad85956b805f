"""The collector's thresholds: Accord's by default, CPython's own with ACCORD_GC_THRESHOLD=0."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from shared import collector
from shared.settings import Settings


@pytest.fixture(autouse=True)
def thresholds_kept() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_by_default_the_youngest_generation_waits_for_twenty_thousand_allocations() -> None:
    collector.tune(Settings().gc_threshold)
    assert gc.get_threshold() == (20_000, 20, 20)


def test_zero_gives_cpythons_own_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_GC_THRESHOLD", "0")
    collector.tune(Settings().gc_threshold)
    assert gc.get_threshold() == collector.STOCK == (700, 10, 10)


def test_a_stopped_process_leaves_what_it_holds_to_the_exit() -> None:
    held = [{"n": n} for n in range(1_000)]
    try:
        collector.spare_the_exit()
        assert gc.get_freeze_count() >= len(held)
    finally:
        gc.unfreeze()


def test_a_negative_threshold_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_GC_THRESHOLD", "-1")
    with pytest.raises(ValueError, match="gc_threshold"):
        Settings()
