"""docs/schema.graphql is the schema the gateway serves: code and file never drift apart."""

import re

from services.gateway.schema import SDL_FILE, sdl


def test_the_published_sdl_matches_the_code() -> None:
    assert SDL_FILE.read_text() == sdl(), "the schema changed: run `accord sdl --write`"


def test_every_command_has_its_mutation() -> None:
    names = {
        "openContract", "joinContract", "askQuestion", "answerQuestion", "proposeExpectation",
        "refineExpectation", "withdrawExpectation", "mergeExpectations", "giveProviderAdvice",
        "commitToExpectation", "declineExpectation", "proposeObligation", "acceptObligation",
        "declineObligation", "discloseRisk", "acknowledgeRisk", "recordRemedialAction",
        "resolveRisk", "recordLessonLearned", "recordMeasurement", "acknowledgeGap",
        "agreeRecoveryPlan", "completeRecoveryStep", "openPrioritization", "castVote",
        "closePrioritization",
    }  # fmt: skip
    text = sdl()
    assert all(f"  {name}(input:" in text for name in names)


def test_a_field_naming_an_accord_object_by_its_id_is_typed_id() -> None:
    """People's ids are their identity provider's subjects (String); a request's correlation
    and causation ids are the caller's; every other `...Id` field names an Accord object."""
    theirs = ("personId", "actorId", "correlationId", "causationId")
    stringly = [
        line.strip()
        for line in sdl().splitlines()
        if re.match(r"\s+\w+Id: String", line) and not line.strip().startswith(theirs)
    ]
    assert stringly == []
