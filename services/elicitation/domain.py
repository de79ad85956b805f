"""The elicitation domain in one import: its aggregates, value objects and named errors.

Each concept has its own module (contract, question, expectation, obligation, risk, lesson, terms,
delivery, participants, errors); this module only gathers them for the application and the API.
"""

from services.elicitation.contract import Contract, participant
from services.elicitation.delivery import Gap, Measurement, PlannedStep, RecoveryStep
from services.elicitation.errors import (
    ElicitationError,
    Forbidden,
    InvalidValue,
    NotFound,
    VersionConflict,
    WrongState,
)
from services.elicitation.expectation import (
    Advice,
    Expectation,
    ExpectationStatus,
    Revision,
)
from services.elicitation.lesson import Lesson, PreventiveAction
from services.elicitation.obligation import Obligation, ObligationStatus
from services.elicitation.participants import Act, Participant
from services.elicitation.question import Question
from services.elicitation.risk import Risk
from services.elicitation.terms import Judgement, MeasurableTerms
from shared.commands.elicitation import (
    Comparison,
    Feasibility,
    Importance,
    Recurrence,
    RiskKind,
    Role,
    Side,
)

__all__ = [
    "Act",
    "Advice",
    "Comparison",
    "Contract",
    "ElicitationError",
    "Expectation",
    "ExpectationStatus",
    "Feasibility",
    "Forbidden",
    "Gap",
    "Importance",
    "InvalidValue",
    "Judgement",
    "Lesson",
    "MeasurableTerms",
    "Measurement",
    "NotFound",
    "Obligation",
    "ObligationStatus",
    "Participant",
    "PlannedStep",
    "PreventiveAction",
    "Question",
    "RecoveryStep",
    "Recurrence",
    "Revision",
    "Risk",
    "RiskKind",
    "Role",
    "Side",
    "VersionConflict",
    "WrongState",
    "participant",
]
