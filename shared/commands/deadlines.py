"""Deadline warnings (issue 16): the one command that sets a contract's deadline policy (the
elicitation service keeps it; ranking learns it from elicitation's events)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from shared.commands.declaration import Body, Command
from shared.values import Duration

SERVICE = "elicitation"

# A threshold is a percent of a promise's time; the deadline itself (100) always warns.
Threshold = Annotated[int, Field(ge=1, le=99)]


class SetDeadlinePolicy(Body):
    thresholds: list[Threshold] = Field(
        max_length=10,
        description="When each dated promise warns before its deadline, in percent of its"
        " time (e.g. [50, 75]); the deadline itself always raises DeadlineMissed.",
    )
    acknowledgement_window: Duration = Field(
        description="How long a disclosed risk may wait for the client's acknowledgement"
        " before its deadline is missed.",
    )


SET_DEADLINE_POLICY = Command(
    "set_deadline_policy", SERVICE, "/contracts/{contract_id}/deadline-policy",
    SetDeadlinePolicy, "Set when the contract's dated promises warn before their deadlines and"
    " how long a disclosed risk may wait for acknowledgement (the provider's account manager).",
    events=("DeadlinePolicySet",),
)  # fmt: skip

COMMANDS: tuple[Command[Body], ...] = (SET_DEADLINE_POLICY,)
