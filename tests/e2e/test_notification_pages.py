"""A busy contract's inbox and deliveries, read a page at a time through `accord dev`.

Before, the inbox was cut at its 100 newest notices with no way to the older ones, and a
contract's deliveries came in one answer however many it had sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

from tests.e2e.accord_process import accord_env, accord_running, answer, ask
from tests.e2e.contract_steps import JOIN, OPEN, PROPOSE
from tests.support.waiting import eventually

PROPOSALS = 110  # more than the inbox used to hold
INBOX = """query($first: Int!, $after: String) { notifications(first: $first, after: $after) {
    edges { node { id data } } pageInfo { hasNextPage endCursor } } }"""
SENT = """query($c: ID!, $first: Int!, $after: String) {
    deliveries(contractId: $c, first: $first, after: $after) {
    edges { node { noticeId personId status } } pageInfo { hasNextPage endCursor } } }"""


UNREAD = "query($c: ID) { unreadNotificationCount(contractId: $c) }"
ACKNOWLEDGE = """mutation($id: ID!) { acknowledgeNotification(input: {noticeId: $id}) {
    __typename ... on Refusal { code message } } }"""


def unread(url: str, contract: str | None = None) -> int:
    body = ask(url, "am", UNREAD, c=contract)
    assert "errors" not in body, body
    count: int = body["data"]["unreadNotificationCount"]
    return count


def page(url: str, person: str, query: str, first: int, after: str | None, **more: Any) -> Any:
    body = ask(url, person, query, first=first, after=after, **more)
    assert "errors" not in body, body
    [found] = body["data"].values()
    return found


def every_page(
    url: str, person: str, query: str, first: int, after: str | None = None, **more: Any
) -> list[Any]:
    """The nodes of every page from the one after `after`, following each `endCursor`."""
    nodes: list[Any] = []
    while True:
        found = page(url, person, query, first, after, **more)
        nodes += [edge["node"] for edge in found["edges"]]
        assert len(nodes) < 1_000, "the pages never end"
        if not found["pageInfo"]["hasNextPage"]:
            return nodes
        after = found["pageInfo"]["endCursor"]


async def test_a_busy_inbox_is_read_to_its_oldest_notice_across_a_restart(tmp_path: Path) -> None:
    env = accord_env(tmp_path / ".accord")
    with accord_running(tmp_path, env) as running:
        url = running.url
        contract = str(answer(url, "am", OPEN)["created"])
        assert answer(url, "am", JOIN, c=contract)["__typename"] == "ContractChanged"
        proposed = set()
        for n in range(PROPOSALS):
            changed = answer(url, "cfo", PROPOSE, c=contract, t=f"Proposal {n}")
            assert changed["__typename"] == "ExpectationChanged", changed
            proposed.add(changed["expectation"]["id"])

        def told_of_every_proposal() -> bool:  # notices arrive a moment after their events
            notices = every_page(url, "am", INBOX, 100)
            return {n["data"].get("expectation_id") for n in notices} >= proposed

        await eventually(told_of_every_proposal)
        inbox = every_page(url, "am", INBOX, 100)
        assert len(inbox) == len({n["id"] for n in inbox}) >= PROPOSALS
        first = page(url, "am", INBOX, 30, None)
        # The inbox's badge counts them all, and one fewer once one is read.
        assert unread(url, contract) == unread(url) == len(inbox)
        read = answer(url, "am", ACKNOWLEDGE, id=inbox[-1]["id"])
        assert read["__typename"] == "NotificationChanged", read
        assert unread(url, contract) == len(inbox) - 1
        assert unread(url, str(uuid4())) == 0  # another contract's: none of theirs
        sent = every_page(url, "am", SENT, 100, c=contract)
        assert len(sent) >= 2 * PROPOSALS  # each proposal: its proposer and the account manager

    # Started again on its data, the cursor given out before reads on where it left off.
    with accord_running(tmp_path, env) as running:
        url = running.url
        rest = every_page(url, "am", INBOX, 30, first["pageInfo"]["endCursor"])
        assert [edge["node"] for edge in first["edges"]] + rest == inbox
        assert every_page(url, "am", SENT, 37, c=contract) == sent
