"""The reader's bound: the oldest event writer still running, as the snapshot numbers it."""

from __future__ import annotations

from shared.recorder import read_bound


def test_with_no_writer_running_the_bound_is_the_snapshots_xmax() -> None:
    assert read_bound("100:120:100,105,119", []) == 120


def test_the_oldest_running_writer_bounds_the_read_and_other_transactions_do_not() -> None:
    # 100 and 119 write no events; 105 and 110 are writers still running.
    assert read_bound("100:120:100,105,110,119", [110, 105]) == 105


def test_a_writer_seen_in_pg_locks_after_the_snapshot_does_not_lower_the_bound() -> None:
    assert read_bound("100:120:100", [121]) == 120


def test_writers_are_matched_across_the_32_bit_wraparound_of_pg_locks() -> None:
    epoch_two = (2 << 32) + 7
    snapshot = f"{epoch_two - 10}:{epoch_two + 5}:{epoch_two - 10},{epoch_two}"
    assert read_bound(snapshot, [7]) == epoch_two


def test_a_writer_without_a_visible_id_yet_makes_every_running_transaction_count() -> None:
    assert read_bound("100:120:100,105,119", [None, 119]) == 100
