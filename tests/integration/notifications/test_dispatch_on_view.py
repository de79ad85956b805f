"""What the contract view queues is dispatched as soon as the view's batch commits: the
dispatcher is woken by it, not found by its poll (pushed past the test here)."""

from __future__ import annotations

import pytest

from services.notifications import dispatcher
from tests.integration.notifications.contract_story import Elicitation, Notify, unique
from tests.integration.notifications.mailbox import Mailbox
from tests.support.waiting import eventually


@pytest.fixture(autouse=True)
def no_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the notifications app starts its dispatcher (the `notify` fixture)."""
    monkeypatch.setattr(dispatcher, "POLL_SECONDS", 600.0)


async def test_a_queued_notice_is_dispatched_when_the_view_commits(
    elicitation: Elicitation, notify: Notify, mailbox: Mailbox
) -> None:
    am, sponsor, cfo = unique("am"), unique("ceo"), unique("cfo")
    contract = await elicitation.contract(am, f"{am}@contoso.example")
    await elicitation.join(contract, am, sponsor, "client_sponsor", f"{sponsor}@northwind.example")
    await elicitation.join(contract, sponsor, cfo, "client_decision_maker", f"{cfo}@n.example")
    await notify.knows(contract, am, 3)
    await notify.prefer(contract, am, channel="email")

    await elicitation.run(
        "propose_expectation", contract, by=cfo, text="Tills up", business_area="Stores"
    )

    # Well inside the poll: only the wake can have dispatched it.
    await eventually(lambda: bool(mailbox.to(f"{am}@contoso.example")), timeout=30)
