"""Signed baselines of a contract's agreed set (the elicitation service keeps them): propose
one, sign it with a meaning, revoke it with a reason. A baseline is never edited."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shared.commands.declaration import Body, Command
from shared.values import LongText, Text

SERVICE = "elicitation"


class Meaning(StrEnum):
    """What a signature means (21 CFR Part 11 11.50: the meaning is part of the signature)."""

    APPROVED = "approved"
    REVIEWED = "reviewed"
    RESPONSIBLE = "responsible"


class ProposeBaseline(Body):
    title: Text = Field(description="What the baseline is, e.g. 'Agreed scope, Q3 review'.")


class SignBaseline(Body):
    meaning: Meaning


class RevokeBaseline(Body):
    reason: LongText = Field(description="Why the baseline no longer stands.")


PROPOSE_BASELINE = Command(
    "propose_baseline", SERVICE, "/contracts/{contract_id}/baselines", ProposeBaseline,
    "Freeze the contract's agreed set at its current versions as a read-only baseline (the"
    " client's sponsor or the provider's account manager).",
    events=("BaselineProposed",), creates=True,
)  # fmt: skip
SIGN_BASELINE = Command(
    "sign_baseline", SERVICE, "/baselines/{baseline_id}/signatures", SignBaseline,
    "Sign a baseline with a meaning; needs a token issued within the last few minutes"
    " (REAUTHENTICATION_REQUIRED otherwise).",
    events=("BaselineSigned",),
)  # fmt: skip
REVOKE_BASELINE = Command(
    "revoke_baseline", SERVICE, "/baselines/{baseline_id}/revoke", RevokeBaseline,
    "Revoke a baseline, with the reason; it stays on record, never edited.",
    events=("BaselineRevoked",),
)  # fmt: skip

COMMANDS: tuple[Command[Body], ...] = (PROPOSE_BASELINE, SIGN_BASELINE, REVOKE_BASELINE)
