"""A log's Merkle tree extended from its frontier has the root the whole tree has, wherever
the log was cut (how a checkpoint extends the one before it: shared/audit/store.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.audit import merkle

leaves = st.lists(st.binary(min_size=1, max_size=8).map(merkle.leaf_hash), max_size=80)


@given(leaves, st.data())
def test_a_tree_extended_from_any_cut_has_the_whole_trees_root(
    every: list[bytes], data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(every)), max_size=4)))
    frontier: merkle.Frontier = ()
    size = 0
    for start, end in zip([0, *cuts], [*cuts, len(every)], strict=True):
        frontier, size = merkle.extended(frontier, size, every[start:end])
        assert merkle.frontier_root(frontier) == merkle.root(every[:end])
    assert size == len(every)
    assert len(frontier) == size.bit_count()


def test_an_empty_frontier_is_the_empty_trees() -> None:
    assert merkle.frontier_root(()) == merkle.EMPTY_ROOT == merkle.root([])


def test_a_frontier_that_cannot_be_a_trees_of_that_size_is_refused() -> None:
    two = merkle.extended((), 0, [merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")])[0]
    with pytest.raises(ValueError, match="a tree of 3 leaves has 2 subtrees, not 1"):
        merkle.extended(two, 3, [merkle.leaf_hash(b"c")])
