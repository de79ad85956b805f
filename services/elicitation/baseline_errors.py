"""The named refusals of baselines: each a kind of elicitation's errors, with its own code."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from services.elicitation.errors import ElicitationError, Forbidden, NotFound, WrongState


class UnknownBaseline(NotFound):
    code = "UNKNOWN_BASELINE"

    def __init__(self, baseline_id: object) -> None:
        super().__init__(f"there is no baseline {baseline_id}", baseline_id=str(baseline_id))


class ReauthenticationRequired(Forbidden):
    """A signature needs a login of the last few minutes, not a token of the morning."""

    code = "REAUTHENTICATION_REQUIRED"
    http_status = 401

    def __init__(self, authenticated_at: datetime, now: datetime, max_age: timedelta) -> None:
        age = int((now - authenticated_at).total_seconds())
        super().__init__(
            f"signing needs a fresh authentication: your token was issued {age} s ago, more"
            f" than {int(max_age.total_seconds())} s; sign in again and sign",
            authenticated_at=authenticated_at.isoformat(),
            max_age_seconds=int(max_age.total_seconds()),
        )


class NotASigner(Forbidden):
    code = "NOT_A_SIGNER"

    def __init__(self, person_id: str, baseline_id: UUID) -> None:
        super().__init__(
            f"{person_id} was not a participant when baseline {baseline_id} was proposed,"
            " so may not sign it",
            person_id=person_id,
            baseline_id=baseline_id,
        )


class AlreadySigned(WrongState):
    code = "ALREADY_SIGNED"

    def __init__(self, person_id: str, baseline_id: UUID) -> None:
        super().__init__(
            f"{person_id} has already signed baseline {baseline_id}",
            person_id=person_id,
            baseline_id=baseline_id,
        )


class BaselineIsRevoked(WrongState):
    code = "BASELINE_REVOKED"

    def __init__(self, baseline_id: UUID) -> None:
        super().__init__(
            f"baseline {baseline_id} was revoked; propose a new one", baseline_id=baseline_id
        )


class SignersMissing(WrongState):
    """Nobody could complete the baseline: a required role has nobody on the contract."""

    code = "BASELINE_SIGNERS_MISSING"

    def __init__(self, contract_id: UUID, roles: Iterable[str]) -> None:
        missing = sorted(roles)
        super().__init__(
            f"contract {contract_id} has nobody as {' or '.join(missing)}, who must sign a"
            " baseline",
            contract_id=contract_id,
            missing_roles=missing,
        )


class AgreedSetCatchingUp(ElicitationError):
    """The service's view of the agreed set has not yet applied what was stored before the
    proposal: freezing now could leave something out, so nothing is frozen."""

    code = "AGREED_SET_CATCHING_UP"
    http_status = 503

    def __init__(self, position: int) -> None:
        super().__init__(
            "the agreed set is still being brought up to date; propose the baseline again in"
            " a moment",
            position=position,
        )
