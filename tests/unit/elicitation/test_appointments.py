"""Who may appoint whom: each side appoints and removes its own people, a side keeps someone who
can appoint for it, and an auditor joins by both sides (or by a configured administrator).

The two tables state every (appointer, appointed) and (remover, removed) pair's outcome; each
pair runs on a fresh contract with two people in every role, through the application.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from services.elicitation.application import Elicitation
from services.elicitation.errors import ElicitationError
from shared.commands.result import CommandResult
from shared.provenance import acting_as

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
ADMIN = "it-admin"  # a configured administrator, on no contract

# Who acts for each role in the tables, and who is removed in each role.
ACTOR = {
    "account_manager": "am1",
    "delivery_lead": "lead1",
    "sponsor": "sponsor1",
    "decision_maker": "dm1",
    "auditor": "auditor1",
    "administrator": ADMIN,
}
REMOVED = {
    "account_manager": "am2",
    "delivery_lead": "lead2",
    "sponsor": "sponsor2",
    "decision_maker": "dm2",
    "client_auditor": "auditor2",
    "provider_auditor": "auditor3",
}
# The role and side each appointed or removed person takes.
TAKES = {
    "account_manager": ("provider_account_manager", "provider"),
    "delivery_lead": ("provider_delivery_lead", "provider"),
    "sponsor": ("client_sponsor", "client"),
    "decision_maker": ("client_decision_maker", "client"),
    "client_auditor": ("auditor", "client"),
    "provider_auditor": ("auditor", "provider"),
}
TARGETS = list(TAKES)

JOINED, NOMINATED, REMOVED_ = "joined", "nominated", "removed"
NYS, NTA, NP = "NOT_YOUR_SIDE", "NOT_THE_APPOINTER", "NOT_PERMITTED"

# appointer -> the outcome of appointing each of TARGETS (in that order).
APPOINT = {
    "account_manager": (JOINED, JOINED, NYS, NYS, NOMINATED, NOMINATED),
    "delivery_lead": (NP, NP, NP, NP, NP, NP),
    "sponsor": (NYS, NYS, JOINED, JOINED, NOMINATED, NOMINATED),
    # The contract has sponsors, so its decision makers appoint no one.
    "decision_maker": (NYS, NYS, NTA, NTA, NTA, NTA),
    "auditor": (NP, NP, NP, NP, NP, NP),
    "administrator": (JOINED, JOINED, JOINED, JOINED, JOINED, JOINED),
}
# remover -> the outcome of removing someone else in each of TARGETS (in that order).
REMOVE = {
    "account_manager": (REMOVED_, REMOVED_, NYS, NYS, NYS, REMOVED_),
    "delivery_lead": (NP, NP, NP, NP, NP, NP),
    "sponsor": (NYS, NYS, REMOVED_, REMOVED_, REMOVED_, NYS),
    "decision_maker": (NYS, NYS, NTA, NTA, NTA, NYS),
    "auditor": (NP, NP, NP, NP, NP, NP),
    "administrator": (REMOVED_, REMOVED_, REMOVED_, REMOVED_, REMOVED_, REMOVED_),
}


class Meeting:
    """One contract on in-memory persistence, and commands run as one person."""

    def __init__(self) -> None:
        self.app = Elicitation(env=POPO)
        self.contract_id: Any = None

    def do(
        self, command: Callable[..., CommandResult], *args: Any, by: str, **kwargs: Any
    ) -> CommandResult:
        with acting_as(by, "test"):
            return command(*args, by=by, administrator=by == ADMIN, **kwargs)

    def open(self, by: str, role: str) -> None:
        with acting_as(by, role):
            self.contract_id = self.app.open_contract(
                by=by,
                client_organisation="Harbour Logistics plc",
                provider_organisation="Northgate IT Services",
                title="Managed IT service desk",
                starts_on="2025-04-01",
                name=by.title(),
                role=role,
            ).id

    def appoint(self, person: str, role: str, *, by: str, side: str | None = None) -> None:
        self.do(
            self.app.join_contract,
            self.contract_id,
            by=by,
            person_id=person,
            name=person.title(),
            role=role,
            side=side,
        )

    def remove(self, person: str, *, by: str) -> None:
        self.do(self.app.leave_contract, self.contract_id, by=by, person_id=person)

    def people(self) -> dict[str, str]:
        contract = self.app.get_contract(self.contract_id)
        return {p.person_id: p.role.value for p in contract.participants.values()}

    def nominated(self) -> set[str]:
        return set(self.app.get_contract(self.contract_id).nominations)

    def outcome(self, act: Callable[[], None], success: str) -> str:
        """`success`, or the refusal's code (a refusal stores nothing)."""
        before = self.app.recorder.max_notification_id()
        try:
            act()
        except ElicitationError as refusal:
            assert refusal.message
            assert self.app.recorder.max_notification_id() == before
            return refusal.code
        return success


def staffed() -> Meeting:
    """Two people in every role, each appointed by whoever the rules say may appoint them."""
    meeting = Meeting()
    meeting.open("am1", "provider_account_manager")
    meeting.appoint("am2", "provider_account_manager", by="am1")
    meeting.appoint("lead1", "provider_delivery_lead", by="am1")
    meeting.appoint("lead2", "provider_delivery_lead", by="am2")
    meeting.appoint("sponsor1", "client_sponsor", by="am1")  # seeds the client side
    meeting.appoint("sponsor2", "client_sponsor", by="sponsor1")
    meeting.appoint("dm1", "client_decision_maker", by="sponsor1")
    meeting.appoint("dm2", "client_decision_maker", by="sponsor2")
    for auditor, side in [("auditor1", "client"), ("auditor2", "client"), ("auditor3", "provider")]:
        meeting.appoint(auditor, "auditor", side=side, by="am1")
        meeting.appoint(auditor, "auditor", side=side, by="sponsor1")
    return meeting


def test_the_staffed_contract_has_two_people_in_every_role() -> None:
    people = staffed().people()
    assert sorted(people.values()) == sorted(
        [role for role, _ in TAKES.values() if role != "auditor"] * 2 + ["auditor"] * 3
    )


def test_each_table_states_every_pair() -> None:
    assert set(APPOINT) == set(REMOVE) == set(ACTOR)
    assert all(len(row) == len(TARGETS) for row in [*APPOINT.values(), *REMOVE.values()])


@pytest.mark.parametrize(
    ("appointer", "appointed", "expected"),
    [(a, t, APPOINT[a][i]) for a in APPOINT for i, t in enumerate(TARGETS)],
    ids=lambda v: str(v),
)
def test_who_may_appoint_whom(appointer: str, appointed: str, expected: str) -> None:
    meeting = staffed()
    role, side = TAKES[appointed]
    seen = meeting.outcome(
        lambda: meeting.appoint("newcomer", role, side=side, by=ACTOR[appointer]), JOINED
    )
    if seen == JOINED and "newcomer" not in meeting.people():
        assert "newcomer" in meeting.nominated()
        seen = NOMINATED
    assert seen == expected
    if expected == JOINED:
        assert meeting.people()["newcomer"] == role


@pytest.mark.parametrize(
    ("remover", "removed", "expected"),
    [(r, t, REMOVE[r][i]) for r in REMOVE for i, t in enumerate(TARGETS)],
    ids=lambda v: str(v),
)
def test_who_may_remove_whom(remover: str, removed: str, expected: str) -> None:
    meeting = staffed()
    person = REMOVED[removed]
    seen = meeting.outcome(lambda: meeting.remove(person, by=ACTOR[remover]), REMOVED_)
    assert seen == expected
    assert (person in meeting.people()) is (expected != REMOVED_)


@pytest.mark.parametrize("person", ["am1", "lead1", "sponsor1", "dm1", "auditor1"])
def test_anyone_may_leave_of_their_own_accord_while_their_side_keeps_an_appointer(
    person: str,
) -> None:
    meeting = staffed()
    meeting.remove(person, by=person)
    assert person not in meeting.people()


def test_the_last_account_manager_cannot_leave_or_be_removed_without_a_successor() -> None:
    meeting = staffed()
    meeting.remove("am2", by="am1")
    assert meeting.outcome(lambda: meeting.remove("am1", by="am1"), REMOVED_) == "LAST_OF_ROLE"
    assert meeting.outcome(lambda: meeting.remove("am1", by=ADMIN), REMOVED_) == "LAST_OF_ROLE"
    meeting.appoint("am3", "provider_account_manager", by="am1")
    meeting.remove("am1", by="am1")
    assert "am3" in meeting.people()


def test_the_last_client_sponsor_or_decision_maker_cannot_leave_without_a_successor() -> None:
    meeting = staffed()
    for person in ["dm2", "dm1", "sponsor2"]:
        meeting.remove(person, by="sponsor1")
    refused = meeting.outcome(lambda: meeting.remove("sponsor1", by="sponsor1"), REMOVED_)
    assert refused == "LAST_OF_ROLE"
    assert meeting.outcome(lambda: meeting.remove("sponsor1", by=ADMIN), REMOVED_) == refused


def test_when_the_last_sponsor_leaves_the_first_client_person_appoints_for_the_client() -> None:
    meeting = staffed()
    meeting.remove("sponsor2", by="sponsor1")
    meeting.remove("sponsor1", by="sponsor1")
    meeting.appoint("dm3", "client_decision_maker", by="dm1")
    assert (
        meeting.outcome(lambda: meeting.appoint("dm4", "client_decision_maker", by="dm2"), JOINED)
        == NTA
    )
    assert meeting.people()["dm3"] == "client_decision_maker"


def test_a_side_with_no_appointer_is_seeded_by_the_other_side_with_one_appointer_only() -> None:
    meeting = Meeting()
    meeting.open("dm1", "client_decision_maker")
    # The client cannot give the provider a delivery lead, only an account manager...
    refused = meeting.outcome(
        lambda: meeting.appoint("lead1", "provider_delivery_lead", by="dm1"), JOINED
    )
    assert refused == NYS
    meeting.appoint("am1", "provider_account_manager", by="dm1")
    # ...who appoints the rest of the provider's side from then on.
    again = meeting.outcome(
        lambda: meeting.appoint("am2", "provider_account_manager", by="dm1"), JOINED
    )
    assert again == NYS
    meeting.appoint("lead1", "provider_delivery_lead", by="am1")
    assert meeting.people() == {
        "dm1": "client_decision_maker",
        "am1": "provider_account_manager",
        "lead1": "provider_delivery_lead",
    }


def test_an_auditor_joins_when_the_other_side_confirms_the_nomination() -> None:
    meeting = staffed()
    meeting.appoint("olive", "auditor", side="client", by="sponsor2")
    assert "olive" not in meeting.people() and "olive" in meeting.nominated()
    meeting.appoint("olive", "auditor", side="client", by="am2")
    assert meeting.people()["olive"] == "auditor"
    assert "olive" not in meeting.nominated()


@pytest.mark.parametrize("confirmer", ["am1", "am2"])
def test_the_nominating_side_cannot_confirm_its_own_nomination(confirmer: str) -> None:
    meeting = staffed()
    meeting.appoint("olive", "auditor", side="provider", by="am1")
    refused = meeting.outcome(
        lambda: meeting.appoint("olive", "auditor", side="provider", by=confirmer), JOINED
    )
    assert refused == "AUDITOR_AWAITS_CONFIRMATION"
    assert "olive" not in meeting.people()


def test_a_confirmation_names_the_side_the_auditor_was_nominated_for() -> None:
    meeting = staffed()
    meeting.appoint("olive", "auditor", side="provider", by="am1")
    refused = meeting.outcome(
        lambda: meeting.appoint("olive", "auditor", side="client", by="sponsor1"), JOINED
    )
    assert refused == "NOMINATION_DIFFERS"


def test_an_administrator_appoints_an_auditor_at_once_without_being_on_the_contract() -> None:
    meeting = staffed()
    meeting.appoint("olive", "auditor", side="client", by=ADMIN)
    assert meeting.people()["olive"] == "auditor"
    assert ADMIN not in meeting.people()


def test_the_same_subject_is_no_administrator_unless_the_command_says_so() -> None:
    meeting = staffed()
    with acting_as(ADMIN, "test"):
        refused = meeting.outcome(
            lambda: meeting.app.join_contract(
                meeting.contract_id,
                by=ADMIN,
                person_id="x",
                name="X",
                role="auditor",
                side="client",
            ),
            JOINED,
        )
    assert refused == "NOT_A_PARTICIPANT"
