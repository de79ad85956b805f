"""How each person wants to be reached: a channel, and at once or in a daily digest."""

from __future__ import annotations

from dataclasses import dataclass

from shared.commands.notifications import Cadence, Channel

# The closed sets are declared with the command that chooses them.
__all__ = ["Cadence", "Channel", "Preference", "default_preference"]


@dataclass(frozen=True)
class Preference:
    """A person's choice on one contract; `email` overrides the address the contract knows."""

    channel: Channel
    cadence: Cadence = Cadence.IMMEDIATE
    email: str = ""
    webhook_url: str = ""


def default_preference(email: str, email_enabled: bool) -> Preference:
    """Email when the person has an address and the service can send mail, else in-app."""
    if email and email_enabled:
        return Preference(Channel.EMAIL)
    return Preference(Channel.IN_APP)
