"""Optimistic concurrency: a command based on a stale version, or one that loses a race, is
refused as CONFLICT and stores nothing; nothing that landed is ever overwritten."""

import threading
from concurrent.futures import ThreadPoolExecutor

from services.elicitation.errors import VersionConflict
from tests.unit.elicitation.story import AMIRA, SAM, Story


def test_two_refinements_read_at_the_same_version_one_lands_and_one_is_a_conflict() -> None:
    story = Story()
    expectation_id = story.proposed()
    both_have_read = threading.Barrier(2)
    get = story.app.repository.get

    def get_then_wait(aggregate_id, *args, **kwargs):
        found = get(aggregate_id, *args, **kwargs)
        if aggregate_id == expectation_id:
            both_have_read.wait(timeout=5)
        return found

    story.app.repository.get = get_then_wait  # type: ignore[method-assign]

    def refine(person: str):
        try:
            return story.do(
                story.app.refine_expectation,
                expectation_id,
                by=person,
                text=f"Wording by {person}",
                terms={},
                reason=f"Reworded by {person}",
            )
        except VersionConflict as conflict:
            return conflict

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(refine, [AMIRA, SAM]))
    story.app.repository.get = get  # type: ignore[method-assign]

    conflicts = [o for o in outcomes if isinstance(o, VersionConflict)]
    (landed,) = [o for o in outcomes if not isinstance(o, VersionConflict)]
    assert len(conflicts) == 1 and conflicts[0].code == "CONFLICT"
    expectation = story.app.get_expectation(expectation_id)
    assert expectation.version == landed.version == 2
    assert len(expectation.revisions) == 2


def test_many_concurrent_refinements_each_land_as_a_new_version_or_are_refused() -> None:
    story = Story()
    expectation_id = story.proposed()
    start = threading.Barrier(8)
    landed: dict[int, str] = {}
    refused: list[str] = []

    def refine_five_times(writer: int) -> None:
        start.wait(timeout=5)
        for attempt in range(5):
            reason = f"writer {writer}, attempt {attempt}"
            try:
                result = story.do(
                    story.app.refine_expectation,
                    expectation_id,
                    by=AMIRA,
                    text="Reworded",
                    terms={},
                    reason=reason,
                )
            except VersionConflict:
                refused.append(reason)
            else:
                assert result.version not in landed, "two commands stored the same version"
                landed[result.version] = reason

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(refine_five_times, range(8)))

    assert len(landed) + len(refused) == 40
    expectation = story.app.get_expectation(expectation_id)
    # Every refinement that landed is there, in the order of its version; none was lost.
    assert expectation.version == 1 + len(landed)
    assert [r.reason for r in expectation.revisions[1:]] == [
        landed[version] for version in sorted(landed)
    ]
