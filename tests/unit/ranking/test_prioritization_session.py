"""A prioritization session, told as the facilitator would run it (POPO persistence)."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.ranking.application import Prioritizations
from services.ranking.errors import BallotIncomplete, DotsWrongTotal, NoVotes, TooManyForKemeny
from services.ranking.result import Method
from services.ranking.session_errors import (
    NotEligible,
    NothingToPrioritize,
    NoVoteToWithdraw,
    SessionClosed,
    UnknownPrioritization,
    VersionConflict,
    WrongBallotShape,
)
from shared.bus_memory import InProcessBus
from shared.provenance import acting_as
from shared.runtime import build_runtime
from shared.settings import Settings

EXPECTATIONS = ["availability", "response-time", "cost-report"]
VOTERS = ["cfo", "cio", "coo"]


@pytest.fixture
def app() -> Prioritizations:
    with acting_as("facilitator", "provider_account_manager"):
        yield Prioritizations(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def open_session(app: Prioritizations, method: Method = Method.SCHULZE, **kw):
    return app.open_prioritization(uuid4(), EXPECTATIONS, VOTERS, method, "facilitator", **kw).id


def test_votes_become_one_corporate_ranking_with_its_measures(app: Prioritizations) -> None:
    session = open_session(app)
    app.cast_vote(session, "cfo", {"ranking": ["cost-report", "availability", "response-time"]})
    app.cast_vote(session, "cio", {"ranking": ["availability", "response-time", "cost-report"]})
    app.cast_vote(session, "coo", {"ranking": ["availability", "cost-report", "response-time"]})
    app.close_prioritization(session, "facilitator", {"availability": ["regulators watch this"]})
    published = app.session(session).result
    assert published is not None
    assert published["ranking"] == ["availability", "cost-report", "response-time"]
    assert published["turnout"] == {"voted": 3, "eligible": 3}
    assert published["agreement"]["distances"]["cio"] > 0  # cio ranked cost-report last
    assert published["advice"]["availability"] == ["regulators watch this"]
    assert published["result"]["pairwise"]["availability"]["cost-report"] == 2


def test_a_later_vote_by_the_same_voter_replaces_the_earlier_one(app: Prioritizations) -> None:
    session = open_session(app)
    app.cast_vote(session, "cfo", {"ranking": ["cost-report", "availability", "response-time"]})
    app.cast_vote(session, "cfo", {"ranking": ["availability", "response-time", "cost-report"]})
    app.close_prioritization(session, "facilitator")
    assert app.session(session).result["ranking"][0] == "availability"


def test_resubmitting_the_same_ballot_changes_nothing(app: Prioritizations) -> None:
    session = open_session(app)
    first = app.cast_vote(session, "cfo", {"ranking": EXPECTATIONS})
    again = app.cast_vote(session, "cfo", {"ranking": EXPECTATIONS})
    assert again.version == first.version and again.positions == ()


def test_only_eligible_voters_vote(app: Prioritizations) -> None:
    session = open_session(app)
    with pytest.raises(NotEligible) as refused:
        app.cast_vote(session, "provider-lead", {"ranking": EXPECTATIONS})
    assert refused.value.code == "NOT_ELIGIBLE"


def test_a_ballot_ranks_each_expectation_exactly_once(app: Prioritizations) -> None:
    session = open_session(app)
    with pytest.raises(BallotIncomplete):
        app.cast_vote(session, "cfo", {"ranking": EXPECTATIONS[:2]})


def test_dots_must_add_up_and_a_ranking_is_refused_in_a_dot_vote(app: Prioritizations) -> None:
    session = open_session(app, Method.DOTS, dots=10)
    with pytest.raises(DotsWrongTotal):
        app.cast_vote(session, "cfo", {"dots": {"availability": 3}})
    with pytest.raises(WrongBallotShape):
        app.cast_vote(session, "cfo", {"ranking": EXPECTATIONS})
    app.cast_vote(session, "cfo", {"dots": {"availability": 7, "cost-report": 3}})
    app.close_prioritization(session, "facilitator")
    assert app.session(session).result["ranking"][0] == "availability"


def test_no_votes_after_closing_and_no_closing_without_votes(app: Prioritizations) -> None:
    session = open_session(app)
    with pytest.raises(NoVotes):
        app.close_prioritization(session, "facilitator")
    app.cast_vote(session, "cfo", {"ranking": EXPECTATIONS})
    app.close_prioritization(session, "facilitator")
    with pytest.raises(SessionClosed):
        app.cast_vote(session, "cio", {"ranking": EXPECTATIONS})
    with pytest.raises(SessionClosed):
        app.close_prioritization(session, "facilitator")


def test_a_session_past_its_closing_time_takes_no_votes(app: Prioritizations) -> None:
    session = open_session(app, closes_at=datetime.now(UTC) - timedelta(minutes=1))
    with pytest.raises(SessionClosed):
        app.cast_vote(session, "cfo", {"ranking": EXPECTATIONS})


def test_a_vote_can_be_withdrawn_while_open(app: Prioritizations) -> None:
    session = open_session(app)
    with pytest.raises(NoVoteToWithdraw):
        app.withdraw_vote(session, "cfo")
    app.cast_vote(session, "cfo", {"ranking": EXPECTATIONS})
    app.withdraw_vote(session, "cfo")
    assert app.session(session).ballots == {}


def test_a_stale_version_is_a_conflict(app: Prioritizations) -> None:
    session = open_session(app)
    app.cast_vote(session, "cfo", {"ranking": EXPECTATIONS}, expected_version=1)
    with pytest.raises(VersionConflict) as refused:
        app.cast_vote(session, "cio", {"ranking": EXPECTATIONS}, expected_version=1)
    assert refused.value.code == "CONFLICT"


def test_sessions_need_something_to_prioritize_and_kemeny_stays_small(app: Prioritizations) -> None:
    with pytest.raises(NothingToPrioritize):
        app.open_prioritization(uuid4(), [], VOTERS, Method.BORDA, "facilitator")
    with pytest.raises(NothingToPrioritize):
        app.open_prioritization(uuid4(), EXPECTATIONS, [], Method.BORDA, "facilitator")
    many = [f"e{n}" for n in range(10)]
    with pytest.raises(TooManyForKemeny):
        app.open_prioritization(uuid4(), many, VOTERS, Method.KEMENY, "facilitator")
    with pytest.raises(UnknownPrioritization):
        app.cast_vote(uuid4(), "cfo", {"ranking": EXPECTATIONS})


async def test_every_ranking_event_is_published_under_its_contract() -> None:
    bus = InProcessBus()
    runtime = await build_runtime(
        "ranking", Prioritizations, Settings(database_url="memory"), bus.publisher()
    )
    app = runtime.app
    contract_id = uuid4()

    async def run(command, *args, **kwargs):
        return await runtime.execute(
            command, *args, actor_id="facilitator", actor_role="am", **kwargs
        )

    session = (
        await run(
            app.open_prioritization, contract_id, EXPECTATIONS, VOTERS, Method.BORDA, "facilitator"
        )
    ).id
    await run(app.cast_vote, session, "cfo", {"ranking": EXPECTATIONS})
    await run(app.cast_vote, session, "cio", {"ranking": EXPECTATIONS[::-1]})
    await run(app.withdraw_vote, session, "cio")
    await run(app.close_prioritization, session, "facilitator")
    await runtime.relay.publish_next_batch()
    envelopes = [m.envelope() for m in bus.log("accord.ranking.v1")]
    assert [e.type.split(".")[2] for e in envelopes] == [
        "PrioritizationOpened",
        "VoteCast",
        "VoteCast",
        "VoteWithdrawn",
        "PrioritizationClosed",
        "CorporatePrioritiesPublished",
    ]
    assert all(e.data["contract_id"] == str(contract_id) == e.key for e in envelopes)
    assert envelopes[-1].data["ranking"] == EXPECTATIONS
    await runtime.stop()
