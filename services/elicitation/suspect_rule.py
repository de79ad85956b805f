"""The rule of suspect links: when an expectation is refined, what rested on its earlier terms
is suspect, and who may review each kind of item.

What rests on an expectation: the provider's commitment (if it was committed when refined), the
obligations that depend on it (still proposed or accepted), the risks that name it (unresolved),
the baselines that hold it at an earlier revision (not revoked), and the contract's published
ranking when the wording changed (the voters ranked the words). A refinement that changes
nothing flags nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from services.elicitation.baseline import REQUIRED_ROLES, Baseline
from services.elicitation.expectation import Expectation, ExpectationStatus, Revision
from services.elicitation.obligation import Obligation, ObligationStatus
from services.elicitation.participants import CLIENT_PEOPLE, DECISION_MAKERS, PROVIDER_TEAM
from services.elicitation.risk import Risk
from shared.commands.elicitation import Role


class SuspectKind(StrEnum):
    """What kind of item a suspect link flags."""

    COMMITMENT = "commitment"
    OBLIGATION = "obligation"
    RISK = "risk"
    BASELINE = "baseline"
    RANKING = "ranking"


# Who may review each kind: whoever may decide the item again. The provider's team commits and
# manages risks; an obligation is the provider's need and the client's acceptance, so either
# side's deciders; a baseline, whoever must sign one; the ranking is the client's scope.
REVIEWERS: Mapping[SuspectKind, frozenset[Role]] = {
    SuspectKind.COMMITMENT: PROVIDER_TEAM,
    SuspectKind.OBLIGATION: PROVIDER_TEAM | DECISION_MAKERS,
    SuspectKind.RISK: PROVIDER_TEAM,
    SuspectKind.BASELINE: frozenset(REQUIRED_ROLES),
    SuspectKind.RANKING: CLIENT_PEOPLE,
}

OPEN_OBLIGATIONS = frozenset({ObligationStatus.PROPOSED, ObligationStatus.ACCEPTED})

# Flag ids are named by what they flag: the same flag is never stored twice.
_FLAGS = UUID("5b1f0c8e-3a57-4d0e-9f6b-2c8d7e1a4b90")


def flag_id(item_id: UUID, expectation_id: UUID, revision: int) -> UUID:
    """The id of the flag a refinement to `revision` raises on `item_id`."""
    return uuid5(_FLAGS, f"{item_id}/{expectation_id}/{revision}")


@dataclass(frozen=True)
class Flag:
    """One item made suspect by one refinement, and the change that did it."""

    item_id: UUID
    kind: SuspectKind
    contract_id: UUID
    expectation_id: UUID
    from_revision: int
    revision: int
    changes: tuple[Mapping[str, str | None], ...]
    # Who put the item on record: told of the flag (empty when no one person owns it).
    owner: str = ""

    @property
    def id(self) -> UUID:
        return flag_id(self.item_id, self.expectation_id, self.revision)

    @property
    def reviewers(self) -> list[str]:
        return sorted(role.value for role in REVIEWERS[self.kind])


def written(value: Any) -> str | None:
    """A value as the flag publishes it: text, decimals in full, dates YYYY-MM-DD; empty as
    null."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return str(value)


def changes(before: Revision, after: Revision) -> list[dict[str, str | None]]:
    """The values that differ from one revision to the next: `text`, then each term by name."""
    found: list[dict[str, str | None]] = []
    if before.text != after.text:
        found.append({"field": "text", "before": before.text, "after": after.text})
    old, new = before.terms.as_event_data(), after.terms.as_event_data()
    for name in new:
        was, now = written(old.get(name)), written(new.get(name))
        if was != now:
            found.append({"field": f"terms.{name}", "before": was, "after": now})
    return found


def suspects(
    before: Revision,
    status_before: ExpectationStatus,
    refined: Expectation,
    *,
    obligations: Iterable[Obligation] = (),
    risks: Iterable[Risk] = (),
    baselines: Iterable[Baseline] = (),
    ranking: Mapping[str, Any] | None = None,
) -> list[Flag]:
    """The flags `refined`'s latest refinement raises on what rested on revision `before`."""
    changed = changes(before, refined.revisions[-1])
    if not changed:
        return []
    expectation = refined.id

    def flag(item_id: UUID, kind: SuspectKind, owner: str = "") -> Flag:
        return Flag(
            item_id=item_id,
            kind=kind,
            contract_id=refined.contract_id,
            expectation_id=expectation,
            from_revision=before.number,
            revision=refined.revision,
            changes=tuple(changed),
            owner=owner,
        )

    flags: list[Flag] = []
    if status_before is ExpectationStatus.COMMITTED:
        flags.append(flag(expectation, SuspectKind.COMMITMENT))
    flags += [
        flag(o.id, SuspectKind.OBLIGATION, o.proposed_by)
        for o in obligations
        if expectation in o.depends_on and o.status in OPEN_OBLIGATIONS
    ]
    flags += [
        flag(r.id, SuspectKind.RISK, r.disclosed_by)
        for r in risks
        if expectation in r.affected_expectations and not r.resolved
    ]
    flags += [
        flag(b.id, SuspectKind.BASELINE, b.proposed_by)
        for b in baselines
        if not b.revoked and _holds(b.content.get("expectations", ()), expectation)
    ]
    wording = any(c["field"] == "text" for c in changed)
    if wording and ranking is not None and str(expectation) in _ranked(ranking):
        flags.append(flag(refined.contract_id, SuspectKind.RANKING))
    return flags


def _holds(entries: Sequence[Mapping[str, Any]], expectation: UUID) -> bool:
    return any(str(entry.get("expectation_id")) == str(expectation) for entry in entries)


def _ranked(ranking: Mapping[str, Any]) -> list[str]:
    return [str(e) for e in ranking.get("ranking") or ()]
