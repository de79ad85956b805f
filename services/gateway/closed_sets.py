"""The closed sets the gateway shows that no command takes as input, as GraphQL enums.

Those a command takes (role, side, comparison, method...) are declared once beside its body, in
shared/commands/; these are the states the read models hold, named as the events leave them.
"""

from __future__ import annotations

from enum import StrEnum

import strawberry


@strawberry.enum(description="Where an expectation stands with the provider.")
class ExpectationStatus(StrEnum):
    # Open for refinement: the provider has not decided on its latest revision.
    PROPOSED = "proposed"
    COMMITTED = "committed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"


@strawberry.enum(description="Where an obligation of the client stands.")
class ObligationStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    # Breached can still turn into fulfilled: both stay on record.
    BREACHED = "breached"
    FULFILLED = "fulfilled"


@strawberry.enum(description="Whether a risk is still open.")
class RiskStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@strawberry.enum(
    description="Where a prioritization stands: taking votes, closed, or its ranking published."
)
class PrioritizationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"


@strawberry.enum(
    description="The rule that separated expectations level on the method's own count, in the"
    " order the rules are tried: head-to-head wins among them, then first places, then the"
    " expectation id (which always ends a tie)."
)
class TieRule(StrEnum):
    HEAD_TO_HEAD = "head_to_head"
    FIRST_PLACES = "first_places"
    EXPECTATION_ID = "expectation_id"
