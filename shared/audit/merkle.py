"""A Merkle tree over a log, as Certificate Transparency's (RFC 6962 section 2.1, RFC 9162
section 2.1): leaf and node hashes take distinct prefixes, so a leaf never passes for a node."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

LEAF = b"\x00"
NODE = b"\x01"
# The root of a tree with no leaves: the hash of nothing.
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two below size (size > 1): where the tree splits."""
    return 1 << ((size - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """The tree head over these leaf hashes (RFC 6962's MTH), built bottom up."""
    if not leaves:
        return EMPTY_ROOT
    # Pairing left to right level by level, carrying an odd last node up unchanged, builds
    # the same tree as the recursive split at the largest power of two.
    level = list(leaves)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The audit path of leaf `index` in the tree over `leaves` (RFC 6962's PATH)."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is not in a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), root(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), root(leaves[:k])]


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that an audit path leads to from a leaf (RFC 9162 section 2.1.3.2); compare
    it with a signed root. Raises ValueError for a path that cannot belong to such a tree."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    fn, sn = index, size - 1
    result = leaf
    for sibling in proof:
        if sn == 0:
            raise ValueError("the path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the path is shorter than the tree is deep")
    return result


# The roots of the perfect subtrees a tree of some size is made of, largest (leftmost) first:
# one per set bit of the size. Enough to extend the tree by more leaves, and to name its root,
# without the leaves it already holds (a Certificate Transparency log's "compact range").
Frontier = tuple[bytes, ...]


def extended(frontier: Frontier, size: int, leaves: Iterable[bytes]) -> tuple[Frontier, int]:
    """The frontier and size of the tree of `size` leaves with `leaves` appended."""
    if len(frontier) != size.bit_count():
        raise ValueError(
            f"a tree of {size} leaves has {size.bit_count()} subtrees, not {len(frontier)}"
        )
    stack = list(frontier)
    for leaf in leaves:
        stack.append(leaf)
        size += 1
        # Each trailing zero of the new size is two equal subtrees joined, as a carry in binary.
        carries = size
        while not carries & 1:
            right = stack.pop()
            stack.append(node_hash(stack.pop(), right))
            carries >>= 1
    return tuple(stack), size


def frontier_root(frontier: Frontier) -> bytes:
    """The tree head over the leaves the frontier sums up: the same as `root` over them."""
    if not frontier:
        return EMPTY_ROOT
    head = frontier[-1]
    for left in reversed(frontier[:-1]):
        head = node_hash(left, head)
    return head
