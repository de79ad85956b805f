"""The heads' digest a checkpoint signs is the SHA-256 of their canonical JSON (keys sorted, no
spaces, each head a [version, hash] list): what an auditor recomputes with any JSON library."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from shared.audit.checkpoint import heads_digest

heads = st.dictionaries(
    st.uuids().map(str),
    st.tuples(st.integers(1, 2**62), st.binary(min_size=32, max_size=32).map(bytes.hex)),
    max_size=40,
)


@given(heads)
def test_the_digest_is_that_of_the_canonical_json(given_heads: dict[str, tuple[int, str]]) -> None:
    text = json.dumps(
        {k: list(v) for k, v in given_heads.items()}, sort_keys=True, separators=(",", ":")
    )
    assert heads_digest(given_heads) == hashlib.sha256(text.encode()).hexdigest()


def test_a_known_digest() -> None:
    one = {
        "0b7c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3": (3, "ab" * 32),
        "00000000-0000-0000-0000-000000000001": (1, "cd" * 32),
    }
    text = (
        '{"00000000-0000-0000-0000-000000000001":[1,"'
        + "cd" * 32
        + '"],"0b7c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3":[3,"'
        + "ab" * 32
        + '"]}'
    )
    assert heads_digest(one) == hashlib.sha256(text.encode()).hexdigest()
