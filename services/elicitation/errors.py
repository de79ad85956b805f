"""The named domain errors of elicitation: each has a stable `code` and a message for people.

Five kinds, each with its HTTP status for the API: InvalidValue (what was typed in breaks a
rule, 422), NotFound (404), Forbidden (who may do what, 403), WrongState (the command does not
fit what has already happened, 422) and VersionConflict (a stale or lost race, 409).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar
from uuid import UUID

from shared.errors import AccordError, StoredMeanwhile


class ElicitationError(AccordError):
    """A command refused by a rule of the domain."""

    code: ClassVar[str] = "ELICITATION_ERROR"

    def __init__(self, message: str, **details: Any) -> None:
        # JSON-friendly facts about the refusal, for the API's `details`.
        super().__init__(message, **{k: _plain(v) for k, v in details.items()})


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class InvalidValue(ElicitationError):
    """What was typed in breaks a rule of the domain."""

    http_status = 422


class NotFound(ElicitationError):
    """The command names something this service does not hold."""

    http_status = 404


class Forbidden(ElicitationError):
    """The person is not on the contract, or their role may not do this."""

    http_status = 403


class WrongState(ElicitationError):
    """The command does not fit what has already happened."""

    http_status = 422


class VersionConflict(ElicitationError):
    """The command was based on a version that is no longer the latest."""

    code = "CONFLICT"
    http_status = 409

    def __init__(self, aggregate_id: UUID, expected: int | None, actual: int | None) -> None:
        if expected is None:
            message = f"{aggregate_id} was changed by someone else at the same time; reload it"
        else:
            message = (
                f"{aggregate_id} is at version {actual}, not {expected}: "
                "it changed since you read it; reload it and try again"
            )
        super().__init__(message, id=aggregate_id, expected_version=expected, version=actual)


class StoredAtTheSameTime(VersionConflict, StoredMeanwhile):
    """Another command stored the same version of the aggregate first; nothing of this one was
    stored (run again, it is checked on what that one stored)."""

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id, None, None)


# Invalid input


class TextEmpty(InvalidValue):
    code = "TEXT_EMPTY"

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} must not be empty", field=field)


class TextTooLong(InvalidValue):
    code = "TEXT_TOO_LONG"

    def __init__(self, field: str, limit: int, length: int) -> None:
        super().__init__(
            f"{field} is {length} characters long; at most {limit} are allowed",
            field=field,
            limit=limit,
            length=length,
        )


class TargetNotNumeric(InvalidValue):
    code = "TARGET_NOT_NUMERIC"

    def __init__(self, field: str, value: object) -> None:
        super().__init__(f"{field} must be a number, not {value!r}", field=field, value=value)


class TargetRangeInverted(InvalidValue):
    code = "TARGET_RANGE_INVERTED"

    def __init__(self, lower: object, upper: object) -> None:
        super().__init__(
            f"the range's lower bound {lower} is above its upper bound {upper}",
            target=lower,
            target_upper=upper,
        )


class RangeBoundUnexpected(InvalidValue):
    code = "RANGE_BOUND_UNEXPECTED"

    def __init__(self, comparison: object) -> None:
        super().__init__(
            f"target_upper is only for comparison within_range, not {comparison}",
            comparison=comparison,
        )


class DeadlineAndRecurrence(InvalidValue):
    code = "DEADLINE_AND_RECURRENCE"

    def __init__(self) -> None:
        super().__init__("an expectation has a deadline or a recurrence, not both")


class DeadlineBeforeContractStart(InvalidValue):
    code = "DEADLINE_BEFORE_CONTRACT_START"

    def __init__(self, deadline: object, starts_on: object) -> None:
        super().__init__(
            f"the deadline {deadline} is before the contract starts on {starts_on}",
            deadline=deadline,
            starts_on=starts_on,
        )


class ValueNotNumeric(InvalidValue):
    code = "VALUE_NOT_NUMERIC"

    def __init__(self, field: str, value: object) -> None:
        super().__init__(f"{field} must be a number, not {value!r}", field=field, value=value)


class ValueOutOfRange(InvalidValue):
    code = "VALUE_OUT_OF_RANGE"

    def __init__(self, field: str, value: object, problem: str) -> None:
        super().__init__(f"{field} cannot be {value!r}: {problem}", field=field, value=str(value))


class DateInvalid(InvalidValue):
    code = "DATE_INVALID"

    def __init__(self, field: str, value: object) -> None:
        super().__init__(
            f"{field} must be a date (YYYY-MM-DD), not {value!r}", field=field, value=value
        )


class PeriodInverted(InvalidValue):
    code = "PERIOD_INVERTED"

    def __init__(self, start: object, end: object) -> None:
        super().__init__(
            f"the period ends on {end}, before it starts on {start}",
            period_start=start,
            period_end=end,
        )


class IdInvalid(InvalidValue):
    code = "ID_INVALID"

    def __init__(self, field: str, value: object) -> None:
        super().__init__(f"{field} must be a UUID, not {value!r}", field=field, value=value)


class InvalidChoice(InvalidValue):
    code = "INVALID_CHOICE"

    def __init__(self, field: str, value: object, allowed: Iterable[str]) -> None:
        allowed = sorted(allowed)
        super().__init__(
            f"{field} must be one of {', '.join(allowed)}, not {value!r}",
            field=field,
            value=value,
            allowed=allowed,
        )


class ScoreOutOfRange(InvalidValue):
    code = "SCORE_OUT_OF_RANGE"

    def __init__(self, field: str, value: object, low: int, high: int) -> None:
        super().__init__(
            f"{field} must be a whole number from {low} to {high}, not {value!r}",
            field=field,
            value=value,
            low=low,
            high=high,
        )


class ContactInvalid(InvalidValue):
    code = "CONTACT_INVALID"

    def __init__(self, email: str) -> None:
        super().__init__(f"{email!r} is not an email address", email=email)


class RoleNotOnSide(InvalidValue):
    code = "ROLE_NOT_ON_SIDE"

    def __init__(self, role: object, side: object) -> None:
        super().__init__(f"a {role} is not on the {side} side", role=role, side=side)


class PlanHasNoSteps(InvalidValue):
    code = "PLAN_HAS_NO_STEPS"

    def __init__(self) -> None:
        super().__init__("a recovery plan needs at least one step with an owner and a date")


class LessonNotLinked(InvalidValue):
    code = "LESSON_NOT_LINKED"

    def __init__(self) -> None:
        super().__init__("a lesson learned is linked to at least one risk or expectation")


class MergeWithItself(InvalidValue):
    code = "MERGE_WITH_ITSELF"

    def __init__(self, expectation_id: UUID) -> None:
        super().__init__(
            "an expectation cannot be merged with itself", expectation_id=expectation_id
        )


# Not found


class UnknownContract(NotFound):
    code = "UNKNOWN_CONTRACT"

    def __init__(self, contract_id: object) -> None:
        super().__init__(f"there is no contract {contract_id}", contract_id=contract_id)


class UnknownExpectation(NotFound):
    code = "UNKNOWN_EXPECTATION"

    def __init__(self, expectation_id: object, contract_id: object = None) -> None:
        where = f" on contract {contract_id}" if contract_id is not None else ""
        super().__init__(
            f"there is no expectation {expectation_id}{where}",
            expectation_id=expectation_id,
            contract_id=contract_id,
        )


class UnknownObligation(NotFound):
    code = "UNKNOWN_OBLIGATION"

    def __init__(self, obligation_id: object) -> None:
        super().__init__(f"there is no obligation {obligation_id}", obligation_id=obligation_id)


class UnknownRisk(NotFound):
    code = "UNKNOWN_RISK"

    def __init__(self, risk_id: object, contract_id: object = None) -> None:
        where = f" on contract {contract_id}" if contract_id is not None else ""
        super().__init__(
            f"there is no risk {risk_id}{where}", risk_id=risk_id, contract_id=contract_id
        )


class UnknownLesson(NotFound):
    code = "UNKNOWN_LESSON"

    def __init__(self, lesson_id: object) -> None:
        super().__init__(f"there is no lesson {lesson_id}", lesson_id=lesson_id)


class UnknownQuestion(NotFound):
    code = "UNKNOWN_QUESTION"

    def __init__(self, question_id: object, contract_id: object = None) -> None:
        where = "" if contract_id is None else f" on contract {contract_id}"
        super().__init__(
            f"there is no question {question_id}{where}",
            question_id=question_id,
            contract_id=contract_id,
        )


class UnknownMeasurement(NotFound):
    code = "UNKNOWN_MEASUREMENT"

    def __init__(self, measurement_id: object, expectation_id: object) -> None:
        super().__init__(
            f"there is no measurement {measurement_id} of expectation {expectation_id}",
            measurement_id=measurement_id,
            expectation_id=expectation_id,
        )


class UnknownGap(NotFound):
    code = "UNKNOWN_GAP"

    def __init__(self, gap_id: object, expectation_id: object) -> None:
        super().__init__(
            f"there is no acknowledged gap {gap_id} on expectation {expectation_id}",
            gap_id=gap_id,
            expectation_id=expectation_id,
        )


class UnknownRecoveryStep(NotFound):
    code = "UNKNOWN_RECOVERY_STEP"

    def __init__(self, gap_id: object, step: int) -> None:
        super().__init__(
            f"the recovery plan for gap {gap_id} has no step {step}", gap_id=gap_id, step=step
        )


# Forbidden


class NotAParticipant(Forbidden):
    code = "NOT_A_PARTICIPANT"

    def __init__(self, person_id: str, contract_id: UUID) -> None:
        super().__init__(
            f"{person_id} is not a participant of contract {contract_id}",
            person_id=person_id,
            contract_id=contract_id,
        )


class NotPermitted(Forbidden):
    code = "NOT_PERMITTED"

    def __init__(self, person_id: str, role: object, act: str) -> None:
        super().__init__(
            f"{person_id} takes part as {role}, who may not {act}",
            person_id=person_id,
            role=role,
            act=act,
        )


# Wrong state


class AlreadyAParticipant(WrongState):
    code = "ALREADY_A_PARTICIPANT"

    def __init__(self, person_id: str, role: object) -> None:
        super().__init__(
            f"{person_id} already takes part as {role}", person_id=person_id, role=role
        )


class WrongRole(WrongState):
    code = "WRONG_ROLE"

    def __init__(self, person_id: str, role: object, needed: Iterable[str], purpose: str) -> None:
        needed = sorted(needed)
        super().__init__(
            f"{purpose} must be {' or '.join(needed)}; {person_id} takes part as {role}",
            person_id=person_id,
            role=role,
            needed=needed,
        )


class QuestionAlreadyAnswered(WrongState):
    code = "QUESTION_ALREADY_ANSWERED"

    def __init__(self, question_id: UUID) -> None:
        super().__init__(
            f"question {question_id} is already answered; ask a follow-up question instead",
            question_id=question_id,
        )


class QuestionNotAnswered(WrongState):
    code = "QUESTION_NOT_ANSWERED"

    def __init__(self, question_id: UUID) -> None:
        super().__init__(
            f"question {question_id} has no answer yet to cite", question_id=question_id
        )


class ExpectationIsWithdrawn(WrongState):
    code = "EXPECTATION_WITHDRAWN"

    def __init__(self, expectation_id: UUID) -> None:
        super().__init__(
            f"expectation {expectation_id} was withdrawn; it can no longer change",
            expectation_id=expectation_id,
        )


class ExpectationIsMerged(WrongState):
    code = "EXPECTATION_MERGED"

    def __init__(self, expectation_id: UUID, merged_into: UUID | None) -> None:
        super().__init__(
            f"expectation {expectation_id} was merged into {merged_into}; change that one",
            expectation_id=expectation_id,
            merged_into=merged_into,
        )


class NotMeasurable(WrongState):
    code = "NOT_MEASURABLE"

    def __init__(self, expectation_id: UUID, missing: Iterable[str]) -> None:
        missing = list(missing)
        super().__init__(
            f"expectation {expectation_id} is not measurable yet: it has no " + ", ".join(missing),
            expectation_id=expectation_id,
            missing=missing,
        )


class ExpectationAlreadyDecided(WrongState):
    code = "EXPECTATION_ALREADY_DECIDED"

    def __init__(self, expectation_id: UUID, decision: str, revision: int) -> None:
        super().__init__(
            f"the provider already {decision} revision {revision} of expectation {expectation_id}",
            expectation_id=expectation_id,
            decision=decision,
            revision=revision,
        )


class DifferentContracts(WrongState):
    code = "DIFFERENT_CONTRACTS"

    def __init__(self, kept: UUID, merged: UUID) -> None:
        super().__init__(
            f"expectations {kept} and {merged} belong to different contracts",
            kept_expectation_id=kept,
            merged_expectation_id=merged,
        )


class ObligationAlreadyDecided(WrongState):
    code = "OBLIGATION_ALREADY_DECIDED"

    def __init__(self, obligation_id: UUID, decision: str) -> None:
        super().__init__(
            f"obligation {obligation_id} was already {decision}",
            obligation_id=obligation_id,
            decision=decision,
        )


class ObligationNotAccepted(WrongState):
    code = "OBLIGATION_NOT_ACCEPTED"

    def __init__(self, obligation_id: UUID, status: str) -> None:
        super().__init__(
            f"obligation {obligation_id} is {status}; only an accepted obligation can be "
            "fulfilled or breached",
            obligation_id=obligation_id,
            status=status,
        )


class ObligationAlreadyFulfilled(WrongState):
    code = "OBLIGATION_ALREADY_FULFILLED"

    def __init__(self, obligation_id: UUID) -> None:
        super().__init__(
            f"obligation {obligation_id} is already fulfilled", obligation_id=obligation_id
        )


class ObligationAlreadyBreached(WrongState):
    code = "OBLIGATION_ALREADY_BREACHED"

    def __init__(self, obligation_id: UUID) -> None:
        super().__init__(
            f"obligation {obligation_id} is already recorded as breached",
            obligation_id=obligation_id,
        )


class RiskAlreadyAcknowledged(WrongState):
    code = "RISK_ALREADY_ACKNOWLEDGED"

    def __init__(self, risk_id: UUID, person_id: str) -> None:
        super().__init__(
            f"{person_id} already acknowledged risk {risk_id}",
            risk_id=risk_id,
            person_id=person_id,
        )


class RiskIsResolved(WrongState):
    code = "RISK_RESOLVED"

    def __init__(self, risk_id: UUID) -> None:
        super().__init__(f"risk {risk_id} is already resolved", risk_id=risk_id)


class TargetWasMet(WrongState):
    code = "TARGET_MET"

    def __init__(self, measurement_id: UUID) -> None:
        super().__init__(
            f"measurement {measurement_id} met its target: there is no gap to acknowledge",
            measurement_id=measurement_id,
        )


class GapAlreadyAcknowledged(WrongState):
    code = "GAP_ALREADY_ACKNOWLEDGED"

    def __init__(self, measurement_id: UUID, gap_id: UUID) -> None:
        super().__init__(
            f"the shortfall of measurement {measurement_id} is already acknowledged as gap "
            f"{gap_id}",
            measurement_id=measurement_id,
            gap_id=gap_id,
        )


class RecoveryPlanAlreadyAgreed(WrongState):
    code = "RECOVERY_PLAN_ALREADY_AGREED"

    def __init__(self, gap_id: UUID) -> None:
        super().__init__(f"gap {gap_id} already has an agreed recovery plan", gap_id=gap_id)


class RecoveryStepAlreadyCompleted(WrongState):
    code = "STEP_ALREADY_COMPLETED"

    def __init__(self, gap_id: UUID, step: int) -> None:
        super().__init__(
            f"step {step} of the recovery plan for gap {gap_id} is already completed",
            gap_id=gap_id,
            step=step,
        )


# Who may appoint whom


class NotYourSide(Forbidden):
    code = "NOT_YOUR_SIDE"

    def __init__(self, person_id: str, their_side: object, side: object) -> None:
        super().__init__(
            f"{person_id} takes part on the {their_side} side and may not appoint or remove "
            f"people on the {side} side: each side appoints its own",
            person_id=person_id,
            their_side=their_side,
            side=side,
        )


class NotTheAppointer(Forbidden):
    code = "NOT_THE_APPOINTER"

    def __init__(
        self, person_id: str, role: object, side: object, appointers: Iterable[str]
    ) -> None:
        appointers = sorted(appointers)
        who = " or ".join(appointers) or "no one yet"
        super().__init__(
            f"{person_id} takes part as {role}; the {side} side's people are appointed and "
            f"removed by {who}",
            person_id=person_id,
            role=role,
            side=side,
            appointers=appointers,
        )


class LastOfRole(WrongState):
    code = "LAST_OF_ROLE"

    def __init__(self, person_id: str, side: object, roles: Iterable[str]) -> None:
        roles = sorted(roles)
        super().__init__(
            f"{person_id} is the last {' or '.join(roles)} on the {side} side: appoint a "
            "successor before they leave",
            person_id=person_id,
            side=side,
            roles=roles,
        )


class AuditorAwaitsConfirmation(WrongState):
    code = "AUDITOR_AWAITS_CONFIRMATION"

    def __init__(self, person_id: str, nominated_by: str, confirming_side: object) -> None:
        super().__init__(
            f"{person_id} was nominated as auditor by {nominated_by}; the {confirming_side} "
            "side's appointer confirms it (or an administrator appoints them)",
            person_id=person_id,
            nominated_by=nominated_by,
            confirming_side=confirming_side,
        )


class NominationDiffers(InvalidValue):
    code = "NOMINATION_DIFFERS"

    def __init__(self, person_id: str, nominated_side: object, side: object) -> None:
        super().__init__(
            f"{person_id} was nominated as auditor on the {nominated_side} side, not the "
            f"{side} side",
            person_id=person_id,
            nominated_side=nominated_side,
            side=side,
        )
