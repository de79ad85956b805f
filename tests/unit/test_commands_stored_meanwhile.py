"""A command whose save lost to another storing the same version at the same moment is run
again, a bounded number of times; any other refusal is the caller's at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import tenacity

from shared import runtime
from shared.errors import AccordError, StoredMeanwhile


class Lost(AccordError, StoredMeanwhile):
    code = "CONFLICT"


class Refused(AccordError):
    code = "CONFLICT"


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "_CONFLICT_PAUSE", tenacity.wait_none())


def command_losing(
    times: int, refusal: type[AccordError]
) -> tuple[list[int], Callable[[str], str]]:
    tries: list[int] = []

    def command(value: str) -> str:
        tries.append(len(tries) + 1)
        if len(tries) <= times:
            raise refusal("changed by someone else at the same time")
        return value

    return tries, command


def test_a_command_that_lost_its_save_is_run_again_until_it_stores() -> None:
    tries, command = command_losing(3, Lost)
    assert runtime.until_stored(command, "stored") == "stored"
    assert tries == [1, 2, 3, 4]


def test_one_that_keeps_losing_is_refused_after_the_last_try() -> None:
    tries, command = command_losing(100, Lost)
    with pytest.raises(Lost):
        runtime.until_stored(command, "never")
    assert len(tries) == runtime.CONFLICT_ATTEMPTS


def test_a_refusal_of_another_kind_is_not_tried_again() -> None:
    tries, command = command_losing(1, Refused)
    with pytest.raises(Refused):
        runtime.until_stored(command, "never")
    assert tries == [1]
