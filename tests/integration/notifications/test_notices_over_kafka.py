"""Elicitation's events on Kafka become notices that reach the right people, by their channel:
a real SMTP server, a real webhook receiver, and the in-app list."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from services.notifications.delivery import DeliveryWorker
from services.notifications.ledger import Ledger
from shared.schemas import registry
from tests.integration.kafka_tools import read_topic
from tests.integration.notifications.contract_story import (
    Elicitation,
    Notify,
    eventually,
    unique,
)
from tests.integration.notifications.mailbox import REFUSED_DOMAIN, Mailbox
from tests.integration.notifications.receiver import Receiver

DM = "client_decision_maker"


async def test_proposals_and_risks_reach_proposers_the_account_manager_and_decision_makers(
    elicitation: Elicitation,
    notify: Notify,
    mailbox: Mailbox,
    receiver: tuple[Receiver, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hooks, url = receiver
    sent_on: list[str] = []  # the channel of every send the delivery worker makes
    send = DeliveryWorker.send

    async def watched_send(worker: DeliveryWorker, channel: str, *args: Any) -> None:
        sent_on.append(channel)
        await send(worker, channel, *args)

    monkeypatch.setattr(DeliveryWorker, "send", watched_send)
    am, mailer, hooked, app_only = (unique(n) for n in ("am", "dm-mail", "dm-hook", "dm-app"))
    am_mail, dm_mail = f"{am}@contoso.example", f"{mailer}@northwind.example"
    contract = await elicitation.contract(am, am_mail)
    await elicitation.join(contract, am, mailer, DM, dm_mail)
    # The client's first person appoints the rest of the client's side.
    await elicitation.join(contract, mailer, hooked, DM, f"{hooked}@northwind.example")
    await elicitation.join(contract, mailer, app_only, DM)  # no email: in-app by default
    await notify.knows(contract, am, 4)
    await notify.prefer(contract, hooked, channel="webhook", webhook_url=f"{url}/hook/ok")

    by_hooked = await elicitation.run(
        "propose_expectation", contract, by=hooked, text="Tills work all day",
        business_area="stores",
    )  # fmt: skip
    await elicitation.run(
        "propose_expectation", contract, by=mailer, text="Cost report on time",
        business_area="finance",
    )  # fmt: skip
    await elicitation.run(
        "disclose_risk", contract, by=am, kind="preconditioning", title="Peak season",
        description="December traffic", likelihood=3, impact=4, affected_expectations=[],
        prepare_for="slower tills",
    )  # fmt: skip

    # The account manager hears of both proposals; each proposer of their own; every decision
    # maker of a risk to the whole contract, each on their own channel.
    await eventually(lambda: len(mailbox.to(am_mail)) == 2 and len(mailbox.to(dm_mail)) == 2)
    await eventually(lambda: len(hooks.for_person(hooked)) == 2)
    assert sorted(m.subject for m in mailbox.to(am_mail)) == [
        "New expectation: Cost report on time",
        "New expectation: Tills work all day",
    ]
    assert sorted(m.subject for m in mailbox.to(dm_mail)) == [
        "Be prepared: Peak season",
        "New expectation: Cost report on time",
    ]
    webhook_subjects = sorted(p["subject"] for p in hooks.for_person(hooked))
    assert webhook_subjects == ["Be prepared: Peak season", "New expectation: Tills work all day"]
    assert hooks.bad_signatures == 0
    first = next(p for p in hooks.for_person(hooked) if p["trigger"] == "expectation_proposed")
    assert first["data"]["expectation_id"] == str(by_hooked.id)
    assert all(m.message_id.endswith("@notifications.accord>") for m in mailbox.to(am_mail))

    async def in_app() -> bool:
        answer = await notify.get(app_only, "/notifications", unread_only="true")
        return len(answer.json()["notifications"]) == 1

    await eventually(in_app)
    (notice,) = (await notify.get(app_only, "/notifications")).json()["notifications"]
    assert notice["subject"] == "Be prepared: Peak season" and notice["contract_id"] == contract
    stranger = await notify.post(hooked, f"/notifications/{notice['notice_id']}/acknowledge", {})
    assert stranger.status_code == 404
    # Read-your-writes: once acknowledged, it is read, at once. (The ledger's background loop
    # is not woken here, so only the command itself can have brought its tables up to date.)
    monkeypatch.setattr(Ledger, "wake", lambda self: None)
    acknowledged = await notify.post(
        app_only, f"/notifications/{notice['notice_id']}/acknowledge", {}
    )
    assert acknowledged.status_code == 200, acknowledged.text
    unread = await notify.get(app_only, "/notifications", unread_only="true")
    assert unread.json()["notifications"] == []

    # What happened is published on accord.notifications.v1 under its contracts.
    async def published() -> bool:
        messages = await read_topic(
            notify.settings.kafka_bootstrap, "accord.notifications.v1", key=contract
        )
        envelopes = [m.envelope() for m in messages]
        kinds = [e.type.split(".")[2] for e in envelopes]
        # Since v2 a set's deliveries travel together: count the notices they name.
        delivered = [
            each["notice_id"]
            for e in envelopes
            if e.type.endswith("NotificationDelivered.v2")
            for each in e.data["deliveries"]
        ]
        return len(set(delivered)) == 7 and "NotificationAcknowledged" in kinds

    await eventually(published)
    in_app_deliveries = []
    for message in await read_topic(
        notify.settings.kafka_bootstrap, "accord.notifications.v1", key=contract
    ):
        envelope = message.envelope()
        jsonschema.validate(envelope.data, registry.lookup(envelope.type).json_schema())
        assert envelope.actor_id in ("accord-notifications", app_only, am, hooked)
        if envelope.type.endswith("NotificationDelivered.v2"):
            in_app_deliveries += [
                (envelope.sequence, d["address"], d["attempt"])
                for d in envelope.data["deliveries"]
                if d["notice_id"] == notice["notice_id"]
            ]
    # Stored in the app is delivered: recorded with its queueing (its set's second event); the
    # worker sent the others and had nothing to send in-app.
    assert in_app_deliveries == [(2, "in-app", 1)]
    assert sorted(set(sent_on)) == ["email", "webhook"]


async def test_bad_days_are_recorded_retried_and_dead_lettered_without_holding_up_the_others(
    elicitation: Elicitation,
    notify: Notify,
    mailbox: Mailbox,
    receiver: tuple[Receiver, str],
) -> None:
    hooks, url = receiver
    am = unique("am")
    flaky, dead, gone, slow, refused, no_address, fine = (
        unique(n) for n in ("flaky", "dead", "gone", "slow", "refused", "noaddr", "fine")
    )
    contract = await elicitation.contract(am, f"{am}@contoso.example")
    for person in (flaky, dead, gone, slow):  # flaky, the first client person, appoints the rest
        by = am if person == flaky else flaky
        await elicitation.join(contract, by, person, DM, f"{person}@northwind.example")
    await elicitation.join(contract, flaky, refused, DM, f"{refused}@{REFUSED_DOMAIN}")
    await elicitation.join(contract, flaky, no_address, DM)
    await elicitation.join(contract, flaky, fine, DM, f"{fine}@northwind.example")
    await notify.knows(contract, am, 8)
    await notify.prefer(contract, flaky, channel="webhook", webhook_url=f"{url}/hook/flaky")
    await notify.prefer(contract, dead, channel="webhook", webhook_url=f"{url}/hook/dead")
    # Nothing listens on port 9 of the loopback: the connection is refused.
    await notify.prefer(contract, gone, channel="webhook", webhook_url="http://127.0.0.1:9/hook")
    await notify.prefer(contract, slow, channel="webhook", webhook_url=f"{url}/hook/slow")
    await notify.prefer(contract, no_address, channel="email")  # and the contract knows none

    await elicitation.run(
        "disclose_risk", contract, by=am, kind="problem", title="Data centre move",
        description="Two nights of downtime", likelihood=4, impact=4, affected_expectations=[],
    )  # fmt: skip

    # The healthy ones arrive at once, whatever the others are doing.
    await eventually(lambda: len(mailbox.to(f"{fine}@northwind.example")) == 1, timeout=30)
    # A 500 and then an OK: delivered on the second attempt.
    await eventually(lambda: len(hooks.for_person(flaky)) == 1)

    async def settled() -> bool:
        notices = await notify.deliveries(contract, am)
        return len(notices) == 7 and all(
            n["status"] in ("delivered", "dead_lettered") for n in notices
        )

    await eventually(settled, timeout=90)
    notices = {n["person_id"]: n for n in await notify.deliveries(contract, am)}
    assert (notices[flaky]["status"], notices[flaky]["attempts"]) == ("delivered", 2)
    assert hooks.raw[notices[flaky]["key"]] == 2
    assert notices[fine]["status"] == "delivered"
    reasons = {
        person: (
            notices[person]["status"],
            notices[person]["attempts"],
            notices[person]["last_reason"],
        )
        for person in (dead, gone, slow, refused, no_address)
    }
    assert reasons[dead] == ("dead_lettered", 3, "webhook answered HTTP 500")
    assert reasons[gone][:2] == ("dead_lettered", 3) and reasons[gone][2].startswith(
        "webhook unreachable"
    )
    assert reasons[slow][:2] == ("dead_lettered", 3) and reasons[slow][2].startswith(
        "webhook timed out"
    )
    assert reasons[refused][:2] == ("dead_lettered", 3) and "refused" in reasons[refused][2]
    assert reasons[no_address] == ("dead_lettered", 3, f"no email address for {no_address}")
    assert hooks.raw[notices[dead]["key"]] == 3
    dead_only = await notify.get(am, f"/contracts/{contract}/deliveries", status="dead_lettered")
    assert len(dead_only.json()["notices"]) == 5

    # The receiver is fixed: the account manager queues the dead-lettered notice again, and it
    # arrives, under its own idempotency key. A decision maker may not; a delivered notice is
    # not queued again.
    await notify.prefer(contract, dead, channel="webhook", webhook_url=f"{url}/hook/ok")
    requeue = f"/contracts/{contract}/deliveries/{notices[dead]['notice_id']}/requeue"
    refused_by_role = await notify.post(fine, requeue, {})
    assert (refused_by_role.status_code, refused_by_role.json()["code"]) == (403, "NOT_PERMITTED")
    requeued = await notify.post(am, requeue, {})
    assert requeued.status_code == 200, requeued.text
    await eventually(lambda: len(hooks.for_person(dead)) == 1)
    assert hooks.for_person(dead)[0]["subject"] == notices[dead]["subject"]

    async def redelivered() -> bool:
        now = {n["person_id"]: n for n in await notify.deliveries(contract, am)}
        return (now[dead]["status"], now[dead]["attempts"]) == ("delivered", 4)

    await eventually(redelivered)
    again = await notify.post(am, requeue, {})
    assert (again.status_code, again.json()["code"]) == (409, "NOT_DEAD_LETTERED")
