"""Who hears about what: one policy per trigger, data that each contract may change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.values import Duration, Integer


class Trigger(StrEnum):
    """Something that happened on a contract that people should hear about."""

    EXPECTATION_PROPOSED = "expectation_proposed"
    EXPECTATION_REFINED = "expectation_refined"
    PRIORITIES_PUBLISHED = "priorities_published"
    OBLIGATION_PROPOSED = "obligation_proposed"
    OBLIGATION_DECIDED = "obligation_decided"
    RISK_DISCLOSED = "risk_disclosed"
    MEASUREMENT_MISSED = "measurement_missed"
    # Not a policy of its own: reminders go to whom obligation_proposed names, on its cadence.
    OBLIGATION_REMINDER = "obligation_reminder"


# A role names everyone on the contract in it; the others name people by what they did:
# "proposers": who proposed the thing concerned (the expectation, the obligation; for a risk,
#   the expectations it affects, and every decision maker when it names none);
# "needed_from": the client person an obligation is needed from.
Selector = Literal[
    "client_decision_maker",
    "client_sponsor",
    "provider_account_manager",
    "provider_delivery_lead",
    "auditor",
    "proposers",
    "needed_from",
]


class Policy(BaseModel):
    """Whether a trigger notifies, whom, how loudly, and (for obligations) how often to remind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    recipients: list[Selector] = Field(default_factory=list)
    # Urgent notices skip the daily digest: they go out at once.
    urgent: bool = False
    # obligation_proposed only: remind every so often until decided, and once before it is due
    # (positive durations, bounded so that no reminder time computed from them overflows).
    remind_every: Duration | None = None
    remind_before_due: Duration | None = None
    # measurement_missed only: a miss counts when it is on one of the top N corporate priorities.
    top: Integer | None = Field(default=None, ge=1)


def default_policies(
    remind_every: timedelta, remind_before_due: timedelta
) -> dict[Trigger, Policy]:
    """What an account manager would set up on day one (issue 6), before anyone changes it."""
    return {
        Trigger.EXPECTATION_PROPOSED: Policy(recipients=["proposers", "provider_account_manager"]),
        Trigger.EXPECTATION_REFINED: Policy(recipients=["proposers", "provider_account_manager"]),
        Trigger.PRIORITIES_PUBLISHED: Policy(recipients=["client_decision_maker"]),
        Trigger.OBLIGATION_PROPOSED: Policy(
            recipients=["client_decision_maker", "needed_from"],
            remind_every=remind_every,
            remind_before_due=remind_before_due,
        ),
        Trigger.OBLIGATION_DECIDED: Policy(recipients=["proposers", "provider_account_manager"]),
        Trigger.RISK_DISCLOSED: Policy(recipients=["proposers"]),
        Trigger.MEASUREMENT_MISSED: Policy(
            recipients=["client_sponsor", "provider_account_manager"], urgent=True, top=2
        ),
    }


POLICY_TRIGGERS = tuple(t for t in Trigger if t is not Trigger.OBLIGATION_REMINDER)


def policy_for(
    trigger: Trigger, defaults: Mapping[Trigger, Policy], changed: Mapping[str, Policy]
) -> Policy:
    """The contract's policy for a trigger: its own when changed, else the default.

    Reminders follow the policy of the obligation they remind about.
    """
    if trigger is Trigger.OBLIGATION_REMINDER:
        trigger = Trigger.OBLIGATION_PROPOSED
    return changed.get(trigger.value) or defaults[trigger]
