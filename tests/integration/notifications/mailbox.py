"""A real SMTP server in process (aiosmtpd) that keeps what it receives, by Message-ID."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.integration.http_server import free_port

# Recipients at this domain are refused, as a server refuses an address it does not know.
REFUSED_DOMAIN = "refused.example"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    message_id: str
    key: str
    text: str
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.raw: Counter[str] = Counter()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.endswith("@" + REFUSED_DOMAIN):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message: Message = message_from_bytes(envelope.content)
        message_id = str(message["Message-ID"])
        self.raw[message_id] += 1
        if self.raw[message_id] == 1:  # a resent Message-ID is acknowledged, and dropped
            payload = message.get_payload(decode=True)
            text = payload.decode() if isinstance(payload, bytes) else ""
            for to in envelope.rcpt_tos:
                self.mails.append(
                    Mail(
                        to,
                        str(message["Subject"]),
                        message_id,
                        str(message["Idempotency-Key"]),
                        text,
                    )
                )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if m.to == address]

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
