"""Who takes part in a contract, on which side and in which role, and what each role may do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

# Roles and sides are closed sets that commands carry: declared with them (GraphQL enums).
from shared.commands.elicitation import Role, Side

# An auditor may sit on either side (the client's internal audit, or the provider's).
SIDES_OF: Mapping[Role, frozenset[Side]] = {
    Role.CLIENT_DECISION_MAKER: frozenset({Side.CLIENT}),
    Role.CLIENT_SPONSOR: frozenset({Side.CLIENT}),
    Role.PROVIDER_ACCOUNT_MANAGER: frozenset({Side.PROVIDER}),
    Role.PROVIDER_DELIVERY_LEAD: frozenset({Side.PROVIDER}),
    Role.AUDITOR: frozenset({Side.CLIENT, Side.PROVIDER}),
}

PROVIDER_TEAM = frozenset({Role.PROVIDER_ACCOUNT_MANAGER, Role.PROVIDER_DELIVERY_LEAD})
DECISION_MAKERS = frozenset({Role.CLIENT_DECISION_MAKER})
CLIENT_PEOPLE = frozenset({Role.CLIENT_DECISION_MAKER, Role.CLIENT_SPONSOR})

# The roles from which a side's appointer comes (the Contract picks who: every account manager
# for the provider; for the client its sponsors or, while it has none, its first client person).
# A side keeps at least one person in these roles, so that someone can always appoint for it.
APPOINTING: Mapping[Side, frozenset[Role]] = {
    Side.PROVIDER: frozenset({Role.PROVIDER_ACCOUNT_MANAGER}),
    Side.CLIENT: CLIENT_PEOPLE,
}


class Act(StrEnum):
    """Something a participant does to the record, named as the refusal message reads."""

    MANAGE_PARTICIPANTS = "add or remove participants"
    ASK_QUESTION = "ask discovery questions"
    RECORD_ANSWER = "record answers on behalf of the client"
    PROPOSE_EXPECTATION = "propose expectations"
    REFINE_EXPECTATION = "refine expectations"
    WITHDRAW_EXPECTATION = "withdraw expectations proposed by others"
    MERGE_EXPECTATIONS = "merge expectations"
    GIVE_ADVICE = "give provider advice"
    DECIDE_EXPECTATION = "commit to or decline expectations"
    PROPOSE_OBLIGATION = "propose obligations"
    DECIDE_OBLIGATION = "accept or decline obligations"
    SETTLE_OBLIGATION = "record obligations as fulfilled or breached"
    DISCLOSE_RISK = "disclose risks"
    ACKNOWLEDGE_RISK = "acknowledge risks"
    MANAGE_RISK = "record remedial actions and resolve risks"
    RECORD_LESSON = "record lessons and plan preventive actions"
    RECORD_MEASUREMENT = "record measurements"
    MANAGE_GAP = "acknowledge gaps and agree recovery plans"
    COMPLETE_RECOVERY_STEP = "complete recovery steps owned by others"
    SET_DEADLINE_POLICY = "set the contract's deadline policy"
    RECORD_ASSUMPTION = "record assumptions"


# The rules of issue 3: the client decides scope and accepts what the provider needs; the
# provider's team does the refining, advising, committing, disclosing and measuring; auditors
# only read, so they appear nowhere here.
MAY: Mapping[Act, frozenset[Role]] = {
    Act.MANAGE_PARTICIPANTS: frozenset(
        {Role.PROVIDER_ACCOUNT_MANAGER, Role.CLIENT_SPONSOR, Role.CLIENT_DECISION_MAKER}
    ),
    Act.ASK_QUESTION: PROVIDER_TEAM,
    Act.RECORD_ANSWER: PROVIDER_TEAM,
    Act.PROPOSE_EXPECTATION: DECISION_MAKERS,
    Act.REFINE_EXPECTATION: PROVIDER_TEAM,
    Act.WITHDRAW_EXPECTATION: frozenset({Role.CLIENT_SPONSOR}),
    Act.MERGE_EXPECTATIONS: PROVIDER_TEAM | DECISION_MAKERS,
    Act.GIVE_ADVICE: PROVIDER_TEAM,
    Act.DECIDE_EXPECTATION: PROVIDER_TEAM,
    Act.PROPOSE_OBLIGATION: PROVIDER_TEAM,
    Act.DECIDE_OBLIGATION: DECISION_MAKERS,
    Act.SETTLE_OBLIGATION: PROVIDER_TEAM,
    Act.DISCLOSE_RISK: PROVIDER_TEAM,
    Act.ACKNOWLEDGE_RISK: DECISION_MAKERS,
    Act.MANAGE_RISK: PROVIDER_TEAM,
    Act.RECORD_LESSON: PROVIDER_TEAM,
    Act.RECORD_MEASUREMENT: PROVIDER_TEAM,
    Act.MANAGE_GAP: PROVIDER_TEAM,
    Act.COMPLETE_RECOVERY_STEP: PROVIDER_TEAM,
    # The provider answers for warning before its promises slip: its account manager says when.
    Act.SET_DEADLINE_POLICY: frozenset({Role.PROVIDER_ACCOUNT_MANAGER}),
    Act.RECORD_ASSUMPTION: PROVIDER_TEAM,
}


@dataclass(frozen=True)
class Participant:
    """A person on the contract, and how notifications reach them."""

    person_id: str
    name: str
    side: Side
    role: Role
    email: str = ""
    phone: str = ""

    def may(self, act: Act) -> bool:
        return self.role in MAY[act]
