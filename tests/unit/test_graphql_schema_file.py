"""docs/schema.graphql is the schema the gateway serves: code and file never drift apart."""

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
