"""A request that reads a view hurries it to where its topics end; with the broker away, it reads
the view as it is, and the runner says so once, not at every request."""

from __future__ import annotations

import logging

import pytest

from shared.bus import Partition
from shared.envelope import Envelope
from shared.projection import ProjectionRunner


class _BrokerAway:
    """A consumer that cannot learn where its partitions end."""

    def assignment(self) -> set[Partition]:
        return {Partition("accord.elicitation.v1", 0)}

    async def end_offsets(self) -> dict[Partition, int]:
        raise ConnectionError("the broker is away")


async def _ignore(conn: object, envelope: Envelope) -> None:
    return None


async def test_with_the_broker_away_a_view_is_read_as_it_is_and_that_is_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "shared.projection")
    runner = ProjectionRunner("away", _BrokerAway(), None, _ignore)  # type: ignore[arg-type]
    for _ in range(3):
        await runner.hurry()  # answers at once: nothing held, nowhere known to reach
    said = [r for r in caplog.records if "where its topics end is unknown" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.INFO
