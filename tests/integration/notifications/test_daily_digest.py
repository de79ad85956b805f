"""A person who chose the daily digest gets the notices held for it in one email, once, at the
digest time; everyone else keeps getting theirs as they happen."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from services.notifications import dispatcher
from tests.integration.notifications.contract_story import Elicitation, Notify, unique
from tests.integration.notifications.mailbox import Mailbox
from tests.support.waiting import eventually

DM = "client_decision_maker"
# The digest hour is hours away; the test's clock puts it this far after the first notice queued
# once the preference is set, and every later notice of the day is held for that same instant,
# as at a real digest hour.
DIGEST_IN = timedelta(seconds=8)


async def test_the_daily_digest_carries_every_held_notice_in_one_email(
    elicitation: Elicitation, notify: Notify, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    preferred = False
    digest_at: list[datetime] = []

    def soon(now: datetime, hour: int) -> datetime:
        if not preferred:  # notices of the joins, before anyone chose the digest
            return now + timedelta(days=1)
        if not digest_at:
            digest_at.append(now + DIGEST_IN)
        return digest_at[0]

    monkeypatch.setattr(dispatcher, "next_digest_at", soon)
    am, first, second = unique("am"), unique("dm"), unique("dm")
    am_mail, first_mail = f"{am}@contoso.example", f"{first}@northwind.example"
    contract = await elicitation.contract(am, am_mail)
    await elicitation.join(contract, am, first, DM, first_mail)
    await elicitation.join(contract, first, second, DM, f"{second}@northwind.example")
    await notify.knows(contract, am, 3)
    await notify.prefer(contract, am, channel="email", cadence="daily_digest")
    preferred = True

    for proposer, text in ((first, "Tills work all day"), (second, "Cost report on time")):
        await elicitation.run(
            "propose_expectation", contract, by=proposer, text=text, business_area="stores"
        )
    # The proposer, on immediate email, hears of their own proposal as it happens...
    await eventually(lambda: len(mailbox.to(first_mail)) == 1, timeout=30)
    # ...the account manager only at the digest time, both notices in one email.
    await eventually(lambda: len(mailbox.to(am_mail)) == 1, timeout=30)
    await asyncio.sleep(1.5)  # and no second one
    [digest] = mailbox.to(am_mail)
    assert digest.received_at >= digest_at[0]
    assert digest.subject == "Your Accord digest: 2 notices"
    assert "Tills work all day" in digest.text and "Cost report on time" in digest.text

    notices = [n for n in await notify.deliveries(contract, am) if n["person_id"] == am]
    assert len(notices) == 2
    assert {n["status"] for n in notices} == {"delivered"}
