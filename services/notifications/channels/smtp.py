"""The email channel over SMTP (aiosmtplib).

The Message-ID is made of the notice's id: a resend after a crash carries the same Message-ID,
so the receiving side can recognise it.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from services.notifications.channels.outgoing import DeliveryFailed, Outgoing
from services.notifications.channels.signing import IDEMPOTENCY_HEADER
from services.notifications.settings import NotifySettings

# Deliberately plain: one @, no spaces, a dot in the domain. The SMTP server has the last word.
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
MESSAGE_ID_DOMAIN = "notifications.accord"


def valid_address(address: str) -> bool:
    return bool(_ADDRESS.match(address))


def message_of(outgoing: Outgoing, sender: str, to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    # A header cannot span lines: text typed into an expectation might.
    message["Subject"] = " ".join(outgoing.subject.split())
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{outgoing.message_id}@{MESSAGE_ID_DOMAIN}>"
    message[IDEMPOTENCY_HEADER] = outgoing.key
    message.set_content(outgoing.text)
    return message


async def send(settings: NotifySettings, address: str, outgoing: Outgoing) -> None:
    """Hand it to the SMTP server; a refusal, a bad address or no server is DeliveryFailed."""
    if not settings.smtp_host:
        raise DeliveryFailed("no SMTP server is configured (ACCORD_NOTIFY_SMTP_HOST)")
    if not address:
        raise DeliveryFailed(f"no email address for {outgoing.person_id}")
    if not valid_address(address):
        raise DeliveryFailed(f"invalid email address {address!r}")
    message = message_of(outgoing, settings.smtp_from, address)
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        raise DeliveryFailed(f"SMTP server refused {address}: {error}") from error
    except (aiosmtplib.SMTPException, OSError) as error:
        raise DeliveryFailed(f"SMTP failed: {type(error).__name__}: {error}") from error
