"""Webhooks are signed over their timestamp and body; digests go out at the digest hour."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from services.notifications.channels.outgoing import Outgoing
from services.notifications.channels.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
)
from services.notifications.channels.smtp import message_of, valid_address
from services.notifications.channels.webhook import request_of
from services.notifications.digest import digest_text, next_digest_at

OUTGOING = Outgoing(
    key="event-1:li:webhook", message_id="b1c2d3e4-f5a6-5b7c-8d9e-0f1a2b3c4d5e",
    contract_id="c", person_id="li", subject="Hello", text="Body", payload={"a": 1},
)  # fmt: skip
NOW = 1_760_000_000


def test_a_receiver_with_the_secret_accepts_the_signed_request() -> None:
    body, headers = request_of(OUTGOING, "s3cret", NOW)
    assert json.loads(body) == {"a": 1}
    assert headers[IDEMPOTENCY_HEADER] == "event-1:li:webhook"
    assert verify("s3cret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER], NOW + 5)


def test_a_changed_body_a_wrong_secret_or_a_replayed_old_request_is_refused() -> None:
    body, headers = request_of(OUTGOING, "s3cret", NOW)
    sig, ts = headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER]
    assert not verify("s3cret", ts, body + b" ", sig, NOW)
    assert not verify("other", ts, body, sig, NOW)
    assert not verify("s3cret", ts, body, sig, NOW + 3600)
    assert not verify("s3cret", str(NOW + 1), body, sig, NOW)  # a fresh timestamp, old signature


def test_an_email_carries_a_message_id_made_of_the_notice_so_a_resend_is_recognisable() -> None:
    message = message_of(OUTGOING, "Accord <a@x.example>", "li@h.example")
    assert message["Message-ID"] == f"<{OUTGOING.message_id}@notifications.accord>"
    assert message[IDEMPOTENCY_HEADER] == OUTGOING.key
    assert (
        message_of(OUTGOING, "a@x.example", "li@h.example")["Message-ID"] == message["Message-ID"]
    )


def test_plainly_invalid_addresses_are_refused_before_any_smtp_server_is_asked() -> None:
    assert valid_address("li@h.example")
    assert not any(valid_address(a) for a in ["", "li", "li@", "li@@h.example", "l i@h.example"])


def test_the_digest_goes_out_at_the_next_digest_hour() -> None:
    morning = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert next_digest_at(morning, 8) == datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert next_digest_at(datetime(2026, 3, 2, 8, tzinfo=UTC), 8) == datetime(
        2026, 3, 3, 8, tzinfo=UTC
    )


def test_a_digest_lists_its_notices() -> None:
    subject, text = digest_text([("One", "first"), ("Two", "second")])
    assert subject == "Your Accord digest: 2 notices"
    assert text == "1. One\nfirst\n\n2. Two\nsecond"
