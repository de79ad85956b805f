"""Who hears about what: one policy per trigger, data that each contract may change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from shared.commands.notifications import Policy, Recipient, Trigger

# The closed sets and the policy are declared with the command that changes them.
__all__ = ["POLICY_TRIGGERS", "Policy", "Recipient", "Trigger", "default_policies", "policy_for"]


def default_policies(
    remind_every: timedelta, remind_before_due: timedelta
) -> dict[Trigger, Policy]:
    """What an account manager would set up on day one (issue 6), before anyone changes it."""
    return {
        Trigger.EXPECTATION_PROPOSED: Policy(
            recipients=[Recipient.PROPOSERS, Recipient.PROVIDER_ACCOUNT_MANAGER]
        ),
        Trigger.EXPECTATION_REFINED: Policy(
            recipients=[Recipient.PROPOSERS, Recipient.PROVIDER_ACCOUNT_MANAGER]
        ),
        Trigger.PRIORITIES_PUBLISHED: Policy(recipients=[Recipient.CLIENT_DECISION_MAKER]),
        Trigger.OBLIGATION_PROPOSED: Policy(
            recipients=[Recipient.CLIENT_DECISION_MAKER, Recipient.NEEDED_FROM],
            remind_every=remind_every,
            remind_before_due=remind_before_due,
        ),
        Trigger.OBLIGATION_DECIDED: Policy(
            recipients=[Recipient.PROPOSERS, Recipient.PROVIDER_ACCOUNT_MANAGER]
        ),
        Trigger.RISK_DISCLOSED: Policy(recipients=[Recipient.PROPOSERS]),
        Trigger.MEASUREMENT_MISSED: Policy(
            recipients=[Recipient.CLIENT_SPONSOR, Recipient.PROVIDER_ACCOUNT_MANAGER],
            urgent=True,
            top=2,
        ),
        Trigger.DEADLINE_APPROACHING: Policy(
            recipients=[Recipient.OWNER, Recipient.PROVIDER_ACCOUNT_MANAGER]
        ),
        Trigger.DEADLINE_MISSED: Policy(
            recipients=[Recipient.OWNER, Recipient.PROVIDER_ACCOUNT_MANAGER], urgent=True
        ),
        Trigger.LINK_SUSPECTED: Policy(
            recipients=[Recipient.OWNER, Recipient.PROVIDER_ACCOUNT_MANAGER]
        ),
        # Whoever could confirm (a client without a sponsor appoints through its first
        # person), and those who appoint for each side.
        Trigger.AUDITOR_NOMINATED: Policy(
            recipients=[
                Recipient.CONFIRMERS,
                Recipient.PROVIDER_ACCOUNT_MANAGER,
                Recipient.CLIENT_SPONSOR,
            ]
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
