"""The Contract aggregate: who takes part on each side.

Who may appoint whom: each side appoints and removes only its own people. The provider's
account managers appoint for the provider; the client's sponsors appoint for the client or,
while it has no sponsor, its first client person (the earliest to join who is still on it). A
side with no appointer yet is seeded by the other side's appointer, with one person who can
appoint for it. An auditor joins when one side's appointer nominates them and the other side's
appointer confirms. A configured administrator may appoint and remove anyone. Nobody, an
administrator included, removes a side's last person who can appoint for it.

The contract keeps only what its rules need (its people, nominations, its own terms), so that
loading it costs the same however long it has run. What grows with its history lives in
aggregates of their own: each discovery question (question.py), expectation, obligation, risk
and lesson. Questions asked before they had their own aggregates were recorded here, on the
contract's stream: the contract still reads those and records their answers here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from uuid import UUID

from eventsourcing.domain import event
from pydantic import TypeAdapter

from services.elicitation import inputs
from services.elicitation.errors import (
    AlreadyAParticipant,
    AuditorAwaitsConfirmation,
    ContactInvalid,
    LastOfRole,
    NominationDiffers,
    NotAParticipant,
    NotPermitted,
    NotTheAppointer,
    NotYourSide,
    RoleNotOnSide,
    UnknownQuestion,
    ValueOutOfRange,
    WrongRole,
)
from services.elicitation.participants import APPOINTING, SIDES_OF, Act, Participant
from services.elicitation.question import check_answer
from services.elicitation.snapshots import StateSnapshot
from shared.commands.elicitation import Role, Side
from shared.eventstore import AccordAggregate
from shared.values import check_duration

# A duration travels as ISO 8601 text (P2D, PT12H).
DURATION = TypeAdapter(timedelta)


@dataclass(frozen=True)
class Question:
    """A question recorded on the contract's stream, as questions were before each had its own
    aggregate (question.py); older contracts and their snapshots still hold these."""

    question_id: UUID
    asked_of: str
    business_area: str
    text: str
    asked_by: str
    answer: str = ""
    answered_by: str = ""

    @property
    def answered(self) -> bool:
        return bool(self.answer)


@dataclass(frozen=True)
class Nomination:
    """An auditor one side's appointer named, waiting for the other side's to confirm."""

    auditor: Participant
    nominated_by: str
    # The side of the appointer who nominated; the other side confirms.
    by_side: Side


class Contract(AccordAggregate):
    """One contract between a client organisation and its provider; its id is the contract id."""

    # Its state is snapshotted as plain JSON (see snapshots.py).
    Snapshot = StateSnapshot

    @staticmethod
    def create_id(contract_id: UUID) -> UUID:
        # The application chooses the id so ContractOpened can carry it as `contract_id`.
        return contract_id

    @classmethod
    def open(
        cls,
        *,
        contract_id: UUID,
        client_organisation: str,
        provider_organisation: str,
        title: str,
        starts_on: date | str,
        opener: Participant,
    ) -> Contract:
        """Open the contract; the opener joins it at once, so that someone can add the rest."""
        if not opener.may(Act.MANAGE_PARTICIPANTS):
            raise NotPermitted(opener.person_id, opener.role, "open a contract")
        contract = cls(
            contract_id=contract_id,
            client_organisation=inputs.label("client_organisation", client_organisation),
            provider_organisation=inputs.label("provider_organisation", provider_organisation),
            title=inputs.label("title", title),
            starts_on=inputs.a_date("starts_on", starts_on),
            opened_by=opener.person_id,
        )
        contract._add(opener, by=opener.person_id)
        return contract

    @event("ContractOpened")
    def __init__(
        self,
        contract_id: UUID,
        client_organisation: str,
        provider_organisation: str,
        title: str,
        starts_on: date,
        opened_by: str,
    ) -> None:
        self.client_organisation = client_organisation
        self.provider_organisation = provider_organisation
        self.title = title
        self.starts_on = starts_on
        self.opened_by = opened_by
        # In the order they joined: the client's first person is its appointer without a sponsor.
        self.participants: dict[str, Participant] = {}
        self.nominations: dict[str, Nomination] = {}
        # Questions recorded here by earlier versions; a contract opened since holds none.
        self.questions: dict[UUID, Question] = {}

    # Who takes part

    def participant(self, person_id: str) -> Participant:
        try:
            return self.participants[person_id]
        except KeyError:
            raise NotAParticipant(person_id, self.id) from None

    def authorise(self, person_id: str, act: Act) -> Participant:
        """The participant, if their role may do `act` on this contract."""
        participant = self.participant(person_id)
        if not participant.may(act):
            raise NotPermitted(person_id, participant.role, act.value)
        return participant

    def in_role(self, person_id: str, roles: Iterable[Role], purpose: str) -> Participant:
        """A participant named in a command (not the caller), who must hold one of `roles`."""
        participant = self.participant(person_id)
        needed = frozenset(roles)
        if participant.role not in needed:
            raise WrongRole(person_id, participant.role, [r.value for r in needed], purpose)
        return participant

    def appointers(self, side: Side) -> list[Participant]:
        """Who appoints and removes the people of `side` (see the module's docstring)."""
        able = [
            p for p in self.participants.values() if p.side is side and p.role in APPOINTING[side]
        ]
        if side is Side.CLIENT:
            sponsors = [p for p in able if p.role is Role.CLIENT_SPONSOR]
            return sponsors or able[:1]
        return able

    def join(self, newcomer: Participant, *, by: str, administrator: bool = False) -> None:
        """`by` appoints the newcomer; an auditor is nominated first, then confirmed."""
        if administrator:
            self._add(newcomer, by=by)
        elif newcomer.role is Role.AUDITOR:
            self._appoint_auditor(newcomer, by=by)
        else:
            self._appointer_for(by, newcomer.side, newcomer.role, seeding=True)
            self._add(newcomer, by=by)

    def _appointer_for(self, by: str, side: Side, role: Role, *, seeding: bool) -> Participant:
        """`by`, if they may appoint (or remove) a `role` on `side`; with `seeding`, a side that
        has no appointer yet may be given one by the other side's appointer."""
        actor = self.authorise(by, Act.MANAGE_PARTICIPANTS)
        if self._appoints(actor, side):
            return actor
        if (
            seeding
            and self._appoints(actor, actor.side)
            and not self.appointers(side)
            and role in APPOINTING[side]
        ):
            return actor
        if actor.side is not side:
            raise NotYourSide(by, actor.side.value, side.value)
        appointers = [p.person_id for p in self.appointers(side)]
        raise NotTheAppointer(by, actor.role.value, side.value, appointers)

    def _appoints(self, participant: Participant, side: Side) -> bool:
        return any(p.person_id == participant.person_id for p in self.appointers(side))

    def _appoint_auditor(self, auditor: Participant, *, by: str) -> None:
        """The first side's appointer nominates the auditor; the other side's confirms."""
        actor = self.authorise(by, Act.MANAGE_PARTICIPANTS)
        if not self._appoints(actor, actor.side):
            appointers = [p.person_id for p in self.appointers(actor.side)]
            raise NotTheAppointer(by, actor.role.value, actor.side.value, appointers)
        existing = self.participants.get(auditor.person_id)
        if existing is not None:
            raise AlreadyAParticipant(auditor.person_id, existing.role)
        nomination = self.nominations.get(auditor.person_id)
        if nomination is None:
            self._auditor_nominated(
                contract_id=self.id,
                person_id=auditor.person_id,
                name=auditor.name,
                side=auditor.side.value,
                email=auditor.email,
                phone=auditor.phone,
                nominated_by=by,
                confirmers=[p.person_id for p in self.appointers(_other(actor.side))],
            )
            return
        if nomination.auditor.side is not auditor.side:
            raise NominationDiffers(
                auditor.person_id, nomination.auditor.side.value, auditor.side.value
            )
        if nomination.by_side is actor.side:
            other = _other(actor.side)
            raise AuditorAwaitsConfirmation(auditor.person_id, nomination.nominated_by, other)
        self._add(auditor, by=by)

    @event("AuditorNominated")
    def _auditor_nominated(
        self,
        contract_id: UUID,
        person_id: str,
        name: str,
        side: str,
        email: str,
        phone: str,
        nominated_by: str,
        # Absent from nominations stored before it was carried.
        confirmers: list[str] | None = None,
    ) -> None:
        auditor = Participant(person_id, name, Side(side), Role.AUDITOR, email, phone)
        by_side = self.participants[nominated_by].side
        self.nominations[person_id] = Nomination(auditor, nominated_by, by_side)

    def _add(self, newcomer: Participant, *, by: str) -> None:
        existing = self.participants.get(newcomer.person_id)
        if existing is not None:
            raise AlreadyAParticipant(newcomer.person_id, existing.role)
        self._participant_joined(
            contract_id=self.id,
            person_id=newcomer.person_id,
            name=newcomer.name,
            side=newcomer.side.value,
            role=newcomer.role.value,
            email=newcomer.email,
            phone=newcomer.phone,
            added_by=by,
        )

    @event("ParticipantJoined")
    def _participant_joined(
        self,
        contract_id: UUID,
        person_id: str,
        name: str,
        side: str,
        role: str,
        email: str,
        phone: str,
        added_by: str,
    ) -> None:
        self.participants[person_id] = Participant(
            person_id, name, Side(side), Role(role), email, phone
        )
        self.nominations.pop(person_id, None)

    def leave(self, person_id: str, *, reason: str, by: str, administrator: bool = False) -> None:
        """A participant leaves; they may go themselves, or be removed by their side's appointer
        (or an administrator), but never as the last who can appoint for their side."""
        leaving = self.participant(person_id)
        if by != person_id and not administrator:
            self._appointer_for(by, leaving.side, leaving.role, seeding=False)
        able = APPOINTING[leaving.side]
        if leaving.role in able and not any(
            p.side is leaving.side and p.role in able and p.person_id != person_id
            for p in self.participants.values()
        ):
            raise LastOfRole(person_id, leaving.side.value, [r.value for r in able])
        self._participant_left(
            contract_id=self.id,
            person_id=person_id,
            reason=inputs.optional_text("reason", reason),
            removed_by=by,
        )

    @event("ParticipantLeft")
    def _participant_left(
        self, contract_id: UUID, person_id: str, reason: str, removed_by: str
    ) -> None:
        del self.participants[person_id]

    # Deadline warnings (issue 16)

    def set_deadline_policy(
        self, *, thresholds: Iterable[int], acknowledgement_window: timedelta | str, by: str
    ) -> None:
        """When the contract's dated promises warn (percent of their time, each once) and how
        long a disclosed risk may wait for acknowledgement; the provider's account manager
        sets it."""
        self.authorise(by, Act.SET_DEADLINE_POLICY)
        chosen = sorted({inputs.score("thresholds", t, low=1, high=99) for t in thresholds})
        try:
            window = check_duration(DURATION.validate_python(acknowledgement_window))
        except ValueError as problem:  # a pydantic ValidationError is one too
            raise ValueOutOfRange(
                "acknowledgement_window", acknowledgement_window, str(problem)
            ) from None
        self._deadline_policy_set(
            contract_id=self.id,
            thresholds=chosen,
            acknowledgement_window=DURATION.dump_python(window, mode="json"),
            set_by=by,
        )

    @event("DeadlinePolicySet")
    def _deadline_policy_set(
        self, contract_id: UUID, thresholds: list[int], acknowledgement_window: str, set_by: str
    ) -> None:
        """The contract keeps nothing of it: the services' deadline views apply the policy."""

    # Questions recorded on the contract's stream before each had its own aggregate: their
    # events still replay here, and their answers are still recorded here.

    @event("QuestionAsked")
    def _question_asked(
        self,
        contract_id: UUID,
        question_id: UUID,
        asked_of: str,
        business_area: str,
        text: str,
        asked_by: str,
    ) -> None:
        self.questions[question_id] = Question(question_id, asked_of, business_area, text, asked_by)

    def question(self, question_id: UUID) -> Question:
        """A question recorded on the contract's stream (UNKNOWN_QUESTION if there is none)."""
        try:
            return self.questions[question_id]
        except KeyError:
            raise UnknownQuestion(question_id, self.id) from None

    def answer(self, question_id: UUID, *, answer: str, by: str) -> None:
        """Answer a question recorded on the contract's stream, under a question's rules."""
        question = self.question(question_id)
        check_answer(question_id, question, by=by, contract=self)
        self._question_answered(
            contract_id=self.id,
            question_id=question_id,
            answer=inputs.text("answer", answer),
            answered_by=question.asked_of,
            recorded_by=by,
        )

    @event("QuestionAnswered")
    def _question_answered(
        self,
        contract_id: UUID,
        question_id: UUID,
        answer: str,
        answered_by: str,
        recorded_by: str,
    ) -> None:
        question = self.questions[question_id]
        self.questions[question_id] = replace(question, answer=answer, answered_by=answered_by)


def participant(
    *,
    person_id: str,
    name: str,
    role: Role | str,
    side: Side | str | None = None,
    email: str = "",
    phone: str = "",
) -> Participant:
    """A participant from what was typed in: a known role, and the side it belongs to (which
    only an auditor, who may sit on either side, has to name)."""
    chosen_role = inputs.choice("role", role, Role)
    sides = SIDES_OF[chosen_role]
    if side is None and len(sides) == 1:
        (chosen_side,) = sides
    else:
        chosen_side = inputs.choice("side", side or "", Side)
    if chosen_side not in sides:
        raise RoleNotOnSide(chosen_role, chosen_side)
    email = inputs.optional_text("email", email, limit=inputs.LABEL_LIMIT)
    # A light check: the notifications service is the one that proves an address works.
    if email and ("@" not in email or email.startswith("@") or email.endswith("@")):
        raise ContactInvalid(email)
    return Participant(
        person_id=inputs.label("person_id", person_id),
        name=inputs.label("name", name),
        side=chosen_side,
        role=chosen_role,
        email=email,
        phone=inputs.optional_text("phone", phone, limit=inputs.LABEL_LIMIT),
    )


def _other(side: Side) -> Side:
    return Side.CLIENT if side is Side.PROVIDER else Side.PROVIDER
