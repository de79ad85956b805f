"""Discovery questions: each is an aggregate of its own, so its contract does not grow with
them; questions recorded on the contract's stream by earlier versions still load, answer and
cite as before."""

from uuid import UUID, uuid4

import pytest

from services.elicitation.application import Elicitation
from services.elicitation.contract import Contract
from shared.bus_memory import InProcessBus
from shared.runtime import build_runtime
from shared.settings import Settings
from tests.unit.elicitation.old_questions import ANSWERED_TOPIC, asked_the_old_way
from tests.unit.elicitation.story import AMIRA, GRACE, LI, SAM, TOM, Story


@pytest.fixture
def story() -> Story:
    return Story()


def ask(story: Story, asked_of: str = LI, by: str = AMIRA, text: str = "Peak season?") -> UUID:
    asked = story.do(
        story.app.ask_question,
        story.contract_id,
        by=by,
        asked_of=asked_of,
        business_area="Warehouse operations",
        text=text,
    )
    return UUID(str(asked.created))


def test_the_provider_asks_a_decision_maker_and_their_answer_is_recorded(story: Story) -> None:
    question_id = ask(story, text="What happens when a scanner cannot reach the WMS?")
    story.do(
        story.app.answer_question,
        story.contract_id,
        question_id,
        by=LI,
        answer="Pickers stop and trucks leave half empty",
    )
    question = story.app.get_question(question_id)
    assert question.contract_id == story.contract_id
    assert question.asked_of == LI and question.asked_by == AMIRA
    assert question.text == "What happens when a scanner cannot reach the WMS?"
    assert question.answer_given == "Pickers stop and trucks leave half empty"
    assert question.answered_by == LI


def test_asking_and_answering_leave_the_contract_as_it_was(story: Story) -> None:
    before = story.app.get_contract(story.contract_id)
    asked = story.do(
        story.app.ask_question,
        story.contract_id,
        by=AMIRA,
        asked_of=LI,
        business_area="Ops",
        text="Peak?",
        expected_version=before.version,
    )
    answered = story.do(
        story.app.answer_question, story.contract_id, asked.created, by=LI, answer="Q4"
    )
    after = story.app.get_contract(story.contract_id)
    assert after.version == before.version and after.questions == {}
    # Each command answers with the question it stored: its id and version.
    assert (asked.id, asked.version, asked.created) == (asked.created, 1, asked.created)
    assert (answered.id, answered.version) == (asked.created, 2)


def test_the_provider_may_record_an_answer_on_the_decision_makers_behalf(story: Story) -> None:
    question_id = ask(story)
    story.do(story.app.answer_question, story.contract_id, question_id, by=SAM, answer="Q4")
    assert story.app.get_question(question_id).answered_by == LI


def test_another_client_person_may_not_answer_for_the_one_asked(story: Story) -> None:
    question_id = ask(story)
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.answer_question, story.contract_id, question_id, by=TOM, answer="Q4")


def test_questions_are_asked_of_client_decision_makers_only(story: Story) -> None:
    with story.refused("WRONG_ROLE"):
        ask(story, asked_of=GRACE)


def test_only_the_provider_asks_discovery_questions(story: Story) -> None:
    with story.refused("NOT_PERMITTED"):
        ask(story, by=TOM)


def test_a_question_is_answered_once(story: Story) -> None:
    question_id = ask(story)
    story.do(story.app.answer_question, story.contract_id, question_id, by=LI, answer="Q4")
    with story.refused("QUESTION_ALREADY_ANSWERED"):
        story.do(story.app.answer_question, story.contract_id, question_id, by=LI, answer="Q1")


def test_an_answer_based_on_a_stale_version_of_the_question_is_a_conflict(story: Story) -> None:
    question_id = ask(story)
    with story.refused("CONFLICT"):
        story.do(
            story.app.answer_question,
            story.contract_id,
            question_id,
            by=LI,
            answer="Q4",
            expected_version=2,
        )
    story.do(
        story.app.answer_question,
        story.contract_id,
        question_id,
        by=LI,
        answer="Q4",
        expected_version=1,
    )


def test_answering_an_unknown_question_is_refused(story: Story) -> None:
    with story.refused("UNKNOWN_QUESTION"):
        story.do(story.app.answer_question, story.contract_id, uuid4(), by=LI, answer="Q4")


def test_an_id_of_something_else_is_no_question(story: Story) -> None:
    expectation = story.proposed()
    with story.refused("UNKNOWN_QUESTION"):
        story.do(story.app.answer_question, story.contract_id, expectation, by=LI, answer="Q4")
    with story.refused("UNKNOWN_QUESTION"):
        story.app.get_question(expectation)


def test_a_question_of_another_contract_is_unknown_on_this_one(story: Story) -> None:
    other = Story(story.app)
    question_id = ask(other)
    with story.refused("UNKNOWN_QUESTION") as refusal:
        story.do(story.app.answer_question, story.contract_id, question_id, by=LI, answer="Q4")
    assert refusal.value.details["contract_id"] == str(story.contract_id)
    other.do(other.app.answer_question, other.contract_id, question_id, by=LI, answer="Q4")
    with story.refused("UNKNOWN_QUESTION"):
        story.do(
            story.app.propose_expectation,
            story.contract_id,
            by=LI,
            text="Cover",
            business_area="Ops",
            from_answers=[question_id],
        )


def test_a_question_id_that_is_not_a_uuid_is_refused_as_such(story: Story) -> None:
    with story.refused("ID_INVALID"):
        story.do(story.app.answer_question, story.contract_id, "question-1", by=LI, answer="Q4")


def test_an_expectation_cites_the_answers_it_came_from(story: Story) -> None:
    question_id = ask(story)
    story.do(story.app.answer_question, story.contract_id, question_id, by=LI, answer="Q4")
    proposed = story.do(
        story.app.propose_expectation,
        story.contract_id,
        by=LI,
        text="Extra desk cover in Q4",
        business_area="Ops",
        from_answers=[str(question_id)],
    )
    assert story.app.get_expectation(proposed.id).from_answers == (question_id,)


def test_an_expectation_cannot_cite_a_question_nobody_answered(story: Story) -> None:
    question_id = ask(story)
    with story.refused("QUESTION_NOT_ANSWERED"):
        story.do(
            story.app.propose_expectation,
            story.contract_id,
            by=LI,
            text="Extra cover",
            business_area="Ops",
            from_answers=[question_id],
        )


async def test_a_questions_events_are_published_under_the_question_keyed_by_its_contract() -> None:
    bus = InProcessBus()
    runtime = await build_runtime(
        "elicitation", Elicitation, Settings(database_url="memory"), bus.publisher()
    )
    story = Story(runtime.app)
    question_id = ask(story)
    story.do(story.app.answer_question, story.contract_id, question_id, by=LI, answer="Q4")
    while await runtime.relay.publish_next_batch():
        pass
    envelopes = [m.envelope() for m in bus.log("accord.elicitation.v1")]
    await runtime.stop()

    about = [e for e in envelopes if e.type.startswith("accord.elicitation.Question")]
    assert [(e.type, e.subject, e.sequence) for e in about] == [
        ("accord.elicitation.QuestionAsked.v1", str(question_id), 1),
        ("accord.elicitation.QuestionAnswered.v1", str(question_id), 2),
    ]
    assert {e.key for e in about} == {str(story.contract_id)}
    assert {e.data["question_id"] for e in about} == {str(question_id)}
    assert {e.data["contract_id"] for e in about} == {str(story.contract_id)}


# Questions recorded on the contract's stream, before each had its own aggregate


def test_a_contract_holding_questions_recorded_the_old_way_loads_with_them(story: Story) -> None:
    open_one = asked_the_old_way(story.app, story.contract_id, asked_of=LI, asked_by=AMIRA)
    answered = asked_the_old_way(
        story.app, story.contract_id, asked_of=LI, asked_by=AMIRA, answer="Q4"
    )
    contract = story.app.get_contract(story.contract_id)
    assert isinstance(contract, Contract)
    assert contract.questions[open_one].asked_of == LI
    assert not contract.questions[open_one].answered
    assert contract.questions[answered].answer == "Q4"


def test_a_question_recorded_the_old_way_is_answered_on_its_contract(story: Story) -> None:
    question_id = asked_the_old_way(story.app, story.contract_id, asked_of=LI, asked_by=AMIRA)
    version = story.app.get_contract(story.contract_id).version

    answered = story.do(
        story.app.answer_question,
        story.contract_id,
        question_id,
        by=SAM,
        answer="Q4",
        expected_version=version,
    )

    assert (answered.id, answered.version) == (story.contract_id, version + 1)
    question = story.app.get_contract(story.contract_id).questions[question_id]
    assert (question.answer, question.answered_by) == ("Q4", LI)
    # Its answer joins its question on the contract's stream, as the events it had before.
    last = story.app.recorder.select_events(story.contract_id, desc=True, limit=1)[0]
    assert last.topic == ANSWERED_TOPIC
    with story.refused("UNKNOWN_QUESTION"):
        story.app.get_question(question_id)


def test_a_question_recorded_the_old_way_keeps_its_rules(story: Story) -> None:
    question_id = asked_the_old_way(story.app, story.contract_id, asked_of=LI, asked_by=AMIRA)
    with story.refused("NOT_PERMITTED"):
        story.do(story.app.answer_question, story.contract_id, question_id, by=TOM, answer="Q4")
    with story.refused("QUESTION_NOT_ANSWERED"):
        story.do(
            story.app.propose_expectation,
            story.contract_id,
            by=LI,
            text="Cover",
            business_area="Ops",
            from_answers=[question_id],
        )
    story.do(story.app.answer_question, story.contract_id, question_id, by=LI, answer="Q4")
    with story.refused("QUESTION_ALREADY_ANSWERED"):
        story.do(story.app.answer_question, story.contract_id, question_id, by=LI, answer="Q1")
    another = asked_the_old_way(story.app, story.contract_id, asked_of=LI, asked_by=AMIRA)
    with story.refused("CONFLICT"):
        story.do(
            story.app.answer_question,
            story.contract_id,
            another,
            by=LI,
            answer="Q4",
            expected_version=1,
        )


def test_an_expectation_cites_old_and_new_answers_alike(story: Story) -> None:
    old = asked_the_old_way(story.app, story.contract_id, asked_of=LI, asked_by=AMIRA, answer="A")
    new = ask(story)
    story.do(story.app.answer_question, story.contract_id, new, by=LI, answer="B")
    proposed = story.do(
        story.app.propose_expectation,
        story.contract_id,
        by=LI,
        text="Cover",
        business_area="Ops",
        from_answers=[old, new],
    )
    assert story.app.get_expectation(proposed.id).from_answers == (old, new)
