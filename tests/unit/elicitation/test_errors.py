"""Every refusal has a stable code of its own and the HTTP status of its kind."""

import inspect
from uuid import UUID

from services.elicitation import errors
from services.elicitation.errors import (
    ElicitationError,
    Forbidden,
    InvalidValue,
    NotFound,
    VersionConflict,
    WrongState,
)

KINDS = {InvalidValue: 422, NotFound: 404, Forbidden: 403, WrongState: 422, VersionConflict: 409}
NAMED = [
    error
    for _, error in inspect.getmembers(errors, inspect.isclass)
    if issubclass(error, ElicitationError) and error not in (ElicitationError, *KINDS)
]


def test_each_named_error_has_a_code_no_other_error_has() -> None:
    codes = [error.code for error in NAMED]
    assert len(codes) == len(set(codes))
    assert all(code.isupper() and code != ElicitationError.code for code in codes)


def test_each_named_error_answers_with_the_status_of_its_kind() -> None:
    for error in NAMED:
        (kind,) = [kind for kind in KINDS if issubclass(error, kind)]
        assert error.http_status == KINDS[kind], error.__name__


def test_a_refusal_reads_as_code_message_and_json_details() -> None:
    refusal = errors.NotAParticipant("li.wei@harbour.example", UUID(int=7))
    assert refusal.status == 403
    assert refusal.as_dict() == {
        "code": "NOT_A_PARTICIPANT",
        "message": f"li.wei@harbour.example is not a participant of contract {UUID(int=7)}",
        "details": {"person_id": "li.wei@harbour.example", "contract_id": str(UUID(int=7))},
    }
