"""The Baseline aggregate: a contract's agreed set frozen at one moment, signed, never edited.

Who must sign: at least one person in each of REQUIRED_ROLES (the client's sponsor and the
provider's account manager) who was on the contract when the baseline was proposed. Anyone
else on the frozen list of participants may sign too (a decision maker's "reviewed", an
auditor's), but only the required roles make it complete. A signature names the signer, their
printed name, the instant, its meaning and the content hash it is bound to, and needs a login
of the last few minutes. Once proposed, the content never changes; a baseline that no longer
stands is revoked with a reason and stays on record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from services.elicitation import inputs
from services.elicitation.baseline_errors import (
    AlreadySigned,
    BaselineIsRevoked,
    NotASigner,
    ReauthenticationRequired,
    SignersMissing,
)
from services.elicitation.contract import Contract
from services.elicitation.errors import NotPermitted
from services.elicitation.expectation import Expectation, ExpectationStatus
from services.elicitation.obligation import Obligation, ObligationStatus
from services.elicitation.risk import Risk
from shared.commands.baselines import Meaning
from shared.commands.elicitation import Role
from shared.eventstore import AccordAggregate
from shared.schemas.baseline_content import canonical, content_hash

# Someone in each of these roles must sign before a baseline is complete.
REQUIRED_ROLES: tuple[Role, ...] = (Role.CLIENT_SPONSOR, Role.PROVIDER_ACCOUNT_MANAGER)
# Who may propose and revoke one: the people who must sign it.
PROPOSERS = frozenset(REQUIRED_ROLES)
PROPOSE_OR_REVOKE = "propose or revoke baselines"

# Obligations the client accepted stay in the agreed set once settled.
AGREED_OBLIGATIONS = frozenset(
    {ObligationStatus.ACCEPTED, ObligationStatus.FULFILLED, ObligationStatus.BREACHED}
)


class BaselineStatus(StrEnum):
    PROPOSED = "proposed"
    COMPLETE = "complete"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Signature:
    """One signature, as 21 CFR Part 11 11.50 asks it to read."""

    signer: str
    printed_name: str
    role: Role
    meaning: Meaning
    signed_at: datetime
    authenticated_at: datetime
    content_hash: str


def check_fresh(authenticated_at: datetime, now: datetime, max_age: timedelta) -> None:
    """A signature needs a login no older than `max_age` (REAUTHENTICATION_REQUIRED)."""
    if now - authenticated_at > max_age:
        raise ReauthenticationRequired(authenticated_at, now, max_age)


def authenticated_at(issued_at: int) -> datetime:
    """The instant a token was issued (its `iat`, seconds since the epoch)."""
    return datetime.fromtimestamp(issued_at, UTC)


def freeze(
    contract: Contract,
    expectations: Iterable[Expectation],
    obligations: Iterable[Obligation],
    risks: Iterable[Risk],
    ranking: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The agreed set now, as published: committed expectations with their terms, accepted
    obligations, acknowledged risks, the ranking published, the participants, each at its
    version, in a fixed order."""
    content = {
        "contract": {
            "contract_id": contract.id,
            "version": contract.version,
            "title": contract.title,
            "client_organisation": contract.client_organisation,
            "provider_organisation": contract.provider_organisation,
            "starts_on": contract.starts_on,
        },
        "participants": [
            {"person_id": p.person_id, "name": p.name, "role": p.role.value, "side": p.side.value}
            for p in sorted(contract.participants.values(), key=lambda p: p.person_id)
        ],
        "expectations": [
            {
                "expectation_id": e.id,
                "version": e.version,
                "revision": e.revision,
                "text": e.text,
                "business_area": e.business_area,
                "terms": e.terms.as_event_data(),
            }
            for e in sorted(expectations, key=lambda e: str(e.id))
            if e.status is ExpectationStatus.COMMITTED
        ],
        "obligations": [
            {
                "obligation_id": o.id,
                "version": o.version,
                "what": o.what,
                "needed_from": o.needed_from,
                "due_on": o.due_on,
                "depends_on": list(o.depends_on),
                "status": o.status.value,
            }
            for o in sorted(obligations, key=lambda o: str(o.id))
            if o.status in AGREED_OBLIGATIONS
        ],
        "risks": [
            {
                "risk_id": r.id,
                "version": r.version,
                "kind": r.kind.value,
                "title": r.title,
                "description": r.description,
                "likelihood": r.likelihood,
                "impact": r.impact,
                "acknowledged_by": list(r.acknowledged_by),
                "resolved": r.resolved,
            }
            for r in sorted(risks, key=lambda r: str(r.id))
            if r.acknowledged
        ],
        "ranking": None if ranking is None else dict(ranking),
    }
    return canonical(content)


class Baseline(AccordAggregate):
    """A read-only baseline of one contract's agreed set and the signatures on it."""

    @staticmethod
    def create_id(baseline_id: UUID) -> UUID:
        # The application chooses the id so BaselineProposed can carry it.
        return baseline_id

    @classmethod
    def propose(
        cls,
        *,
        baseline_id: UUID,
        contract: Contract,
        title: str,
        content: Mapping[str, Any],
        by: str,
    ) -> Baseline:
        _may_propose_or_revoke(contract, by)
        held = {p.role for p in contract.participants.values()}
        missing = [role.value for role in REQUIRED_ROLES if role not in held]
        if missing:
            raise SignersMissing(contract.id, missing)
        frozen = canonical(content)
        return cls(
            contract_id=contract.id,
            baseline_id=baseline_id,
            title=inputs.label("title", title),
            content=frozen,
            content_hash=content_hash(frozen),
            required_roles=[role.value for role in REQUIRED_ROLES],
            proposed_by=by,
        )

    @event("BaselineProposed")
    def __init__(
        self,
        contract_id: UUID,
        baseline_id: UUID,
        title: str,
        content: dict[str, Any],
        content_hash: str,
        required_roles: list[str],
        proposed_by: str,
    ) -> None:
        self._contract_id = contract_id
        self.title = title
        self.content = content
        self.content_hash = content_hash
        self.required_roles = tuple(Role(role) for role in required_roles)
        self.proposed_by = proposed_by
        self.signatures: tuple[Signature, ...] = ()
        self.revocation_reason = ""

    @property
    def contract_id(self) -> UUID:
        return self._contract_id

    @property
    def revoked(self) -> bool:
        return bool(self.revocation_reason)

    @property
    def signers(self) -> frozenset[str]:
        """Who was on the contract when it was proposed: only they may sign it."""
        return frozenset(p["person_id"] for p in self.content["participants"])

    @property
    def complete(self) -> bool:
        return not self.unsigned_roles(self.signatures)

    @property
    def status(self) -> BaselineStatus:
        if self.revoked:
            return BaselineStatus.REVOKED
        return BaselineStatus.COMPLETE if self.complete else BaselineStatus.PROPOSED

    def unsigned_roles(self, signatures: Sequence[Signature]) -> list[Role]:
        """The required roles nobody has signed for yet."""
        signed = {s.role for s in signatures}
        return [role for role in self.required_roles if role not in signed]

    def sign(
        self,
        *,
        contract: Contract,
        by: str,
        meaning: Meaning | str,
        authenticated_at: datetime,
        now: datetime,
        max_age: timedelta,
    ) -> None:
        signer = contract.participant(by)
        check_fresh(authenticated_at, now, max_age)
        if self.revoked:
            raise BaselineIsRevoked(self.id)
        if by not in self.signers:
            raise NotASigner(by, self.id)
        if any(s.signer == by for s in self.signatures):
            raise AlreadySigned(by, self.id)
        chosen = inputs.choice("meaning", meaning, Meaning)
        signature = Signature(
            signer=by,
            printed_name=signer.name,
            role=signer.role,
            meaning=chosen,
            signed_at=now,
            authenticated_at=authenticated_at,
            content_hash=self.content_hash,
        )
        self._signed(
            contract_id=self.contract_id,
            baseline_id=self.id,
            signer=by,
            printed_name=signature.printed_name,
            role=signature.role.value,
            meaning=chosen.value,
            signed_at=now,
            authenticated_at=authenticated_at,
            content_hash=self.content_hash,
            complete=not self.unsigned_roles((*self.signatures, signature)),
        )

    @event("BaselineSigned")
    def _signed(
        self,
        contract_id: UUID,
        baseline_id: UUID,
        signer: str,
        printed_name: str,
        role: str,
        meaning: str,
        signed_at: datetime,
        authenticated_at: datetime,
        content_hash: str,
        complete: bool,
    ) -> None:
        signature = Signature(
            signer=signer,
            printed_name=printed_name,
            role=Role(role),
            meaning=Meaning(meaning),
            signed_at=signed_at,
            authenticated_at=authenticated_at,
            content_hash=content_hash,
        )
        self.signatures = (*self.signatures, signature)

    def revoke(self, *, contract: Contract, by: str, reason: str) -> None:
        _may_propose_or_revoke(contract, by)
        if self.revoked:
            raise BaselineIsRevoked(self.id)
        self._revoked(
            contract_id=self.contract_id,
            baseline_id=self.id,
            reason=inputs.text("reason", reason),
            revoked_by=by,
        )

    @event("BaselineRevoked")
    def _revoked(self, contract_id: UUID, baseline_id: UUID, reason: str, revoked_by: str) -> None:
        self.revocation_reason = reason


def _may_propose_or_revoke(contract: Contract, person_id: str) -> None:
    participant = contract.participant(person_id)
    if participant.role not in PROPOSERS:
        raise NotPermitted(person_id, participant.role.value, PROPOSE_OR_REVOKE)
