"""Questions through the service's HTTP API, on PostgreSQL: each is an aggregate of its own, so
a command on a contract reads the same few events however many questions were asked on it; and
questions stored on the contract's stream by earlier versions still answer and cite."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import asyncpg

from services.elicitation.snapshots import SNAPSHOT_EVERY
from tests.integration.elicitation.test_snapshots_over_http import (
    TOPIC,
    Service,
    a_contract_with_history,
    service,
)
from tests.unit.elicitation.old_questions import ANSWERED_TOPIC, asked_the_old_way

__all__ = ["service"]


async def ask(service: Service, contract: str, text: str = "What stops a till?") -> Any:
    return await service.ok("am", f"/contracts/{contract}/questions", {
        "asked_of": "cfo", "business_area": "stores", "text": text,
    })  # fmt: skip


async def published(service: Service, count: int) -> list[Any]:
    async with asyncio.timeout(30):
        while len(service.bus.log(TOPIC)) < count:
            await asyncio.sleep(0.05)
    return [message.envelope() for message in service.bus.log(TOPIC)]


async def test_a_question_is_asked_answered_and_cited_without_touching_its_contract(
    service: Service,
) -> None:
    contract = await a_contract_with_history(service, 0)
    before = (await service.ok("am", f"/contracts/{contract}"))["version"]

    asked = await ask(service, contract)
    answered = await service.ok("cfo", f"/contracts/{contract}/answers", {
        "question_id": asked["created"], "answer": "A power cut", "expected_version": 1,
    })  # fmt: skip
    proposed = await service.ok("cfo", f"/contracts/{contract}/expectations", {
        "text": "Tills back within an hour", "business_area": "stores",
        "from_answers": [asked["created"]],
    })  # fmt: skip

    question = asked["created"]
    assert (asked["id"], asked["version"], answered["id"], answered["version"]) == (
        question, 1, question, 2,
    )  # fmt: skip
    assert (await service.ok("am", f"/contracts/{contract}"))["version"] == before
    envelopes = await published(service, before + 3)
    about = [e for e in envelopes if e.subject == question]
    assert [e.type for e in about] == [
        "accord.elicitation.QuestionAsked.v1",
        "accord.elicitation.QuestionAnswered.v1",
    ]
    assert {e.key for e in about} == {contract}
    cited = [e for e in envelopes if e.subject == proposed["id"]]
    assert cited[0].data["from_answers"] == [question]


async def test_a_command_reads_as_few_events_after_many_questions_as_on_a_new_contract(
    service: Service,
) -> None:
    contract = await a_contract_with_history(service, 0)
    for number in range(2 * SNAPSHOT_EVERY):
        await ask(service, contract, f"Question {number}?")
    read: list[int] = []
    get = service.app.repository.event_store.get

    def counting(*args: Any, **kwargs: Any) -> Any:
        events = list(get(*args, **kwargs))
        read.append(len(events))
        return events

    service.app.repository.event_store.get = counting  # type: ignore[method-assign]
    await service.ok("cfo", f"/contracts/{contract}/expectations", {
        "text": "Reports arrive on time", "business_area": "finance",
    })  # fmt: skip

    # The contract's own events (opened, two people joined), and no snapshot was needed.
    assert read == [3]
    conn = await asyncpg.connect(service.settings.database_url)
    try:
        snapshots = await conn.fetchval(
            "SELECT count(*) FROM elicitation.elicitation_snapshots WHERE originator_id = $1",
            UUID(contract),
        )
    finally:
        await conn.close()
    assert snapshots == 0


async def test_questions_stored_on_the_contract_by_earlier_versions_still_answer_and_cite(
    service: Service,
) -> None:
    contract = await a_contract_with_history(service, 0)
    old = await asyncio.to_thread(
        asked_the_old_way, service.app, UUID(contract), asked_of="cfo", asked_by="am"
    )
    cited = await asyncio.to_thread(
        asked_the_old_way, service.app, UUID(contract), asked_of="cfo", asked_by="am", answer="A"
    )
    version = (await service.ok("am", f"/contracts/{contract}"))["version"]
    assert version == 6

    answered = await service.ok("cfo", f"/contracts/{contract}/answers", {
        "question_id": str(old), "answer": "Queues form", "expected_version": version,
    })  # fmt: skip
    proposed = await service.ok("cfo", f"/contracts/{contract}/expectations", {
        "text": "Shorter queues", "business_area": "stores",
        "from_answers": [str(old), str(cited)],
    })  # fmt: skip

    # The answer joins its question on the contract's stream, as it did before.
    assert (answered["id"], answered["version"]) == (contract, version + 1)
    stored = await asyncio.to_thread(
        service.app.recorder.select_events, UUID(contract), desc=True, limit=1
    )
    assert stored[0].topic == ANSWERED_TOPIC
    loaded = await asyncio.to_thread(service.app.get_contract, contract)
    assert loaded.questions[old].answer == "Queues form"
    envelopes = await published(service, version + 2)
    answers = [e for e in envelopes if e.type == "accord.elicitation.QuestionAnswered.v1"]
    assert [(e.subject, e.sequence, e.data["question_id"]) for e in answers] == [
        (contract, 6, str(cited)),
        (contract, 7, str(old)),
    ]
    expectation = [e for e in envelopes if e.subject == proposed["id"]]
    assert expectation[0].data["from_answers"] == [str(old), str(cited)]
