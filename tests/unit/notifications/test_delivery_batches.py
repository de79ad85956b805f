"""What the delivery worker sends: each notice alone, digest notices gathered per person."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from services.notifications.channels.outgoing import DeliveryFailed
from services.notifications.delivery import batches, failure_reason, outgoing_of
from services.notifications.idempotency import digest_key
from services.notifications.policies import Policy
from services.notifications.scheduler import no_longer_wanted

DIGEST_AT = datetime(2026, 3, 3, 8, tzinfo=UTC)


def row(person: str, key: str, digest: bool = False, channel: str = "email") -> dict[str, Any]:
    """A claimed row of the notices table, as the worker reads it."""
    return {
        "notice_id": uuid4(), "key": key, "contract_id": "c", "source_event_id": key,
        "trigger": "risk_disclosed", "person_id": person, "channel": channel,
        "subject": f"About {key}", "body": f"Text of {key}", "data": json.dumps({"k": key}),
        "urgent": False, "not_before": DIGEST_AT if digest else None,
        "queued_at": DIGEST_AT - timedelta(hours=5),
    }  # fmt: skip


def test_immediate_notices_go_alone_and_digest_notices_go_together_per_person() -> None:
    rows = [
        row("li", "a"), row("li", "b", digest=True), row("li", "c", digest=True),
        row("tom", "d", digest=True), row("li", "e", digest=True, channel="webhook"),
    ]  # fmt: skip
    sent = [[r["key"] for r in batch] for batch in batches(rows)]
    assert sent == [["a"], ["b", "c"], ["d"], ["e"]]


def test_a_single_notice_carries_its_own_key_and_a_digest_the_key_of_all_it_carries() -> None:
    single = outgoing_of([row("li", "a")])
    assert (single.key, single.subject, single.payload["data"]) == ("a", "About a", {"k": "a"})
    digest = outgoing_of([row("li", "b", True), row("li", "c", True)])
    assert digest.key == digest_key(["b", "c"]) == digest.message_id
    assert digest.subject == "Your Accord digest: 2 notices"
    assert [n["key"] for n in digest.payload["notices"]] == ["b", "c"]


def test_every_failure_is_recorded_with_a_reason() -> None:
    assert (
        failure_reason(DeliveryFailed("webhook answered HTTP 500")) == "webhook answered HTTP 500"
    )
    assert failure_reason(TimeoutError()) == "send timed out"
    assert failure_reason(ValueError("bad header")) == "ValueError: bad header"


def test_reminders_stop_when_the_contract_turns_them_off() -> None:
    reminding = Policy(remind_every=timedelta(days=2), remind_before_due=None)
    assert not no_longer_wanted(reminding, "every")
    assert no_longer_wanted(reminding, "before_due")
    assert no_longer_wanted(reminding.model_copy(update={"enabled": False}), "every")
