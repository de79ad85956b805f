"""The GraphQL object types, each built from read-model rows."""

from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import orjson
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from services.gateway import deadlines, delivery, expectation_rows, suspects
from services.gateway.closed_sets import (
    ExpectationStatus,
    ObligationStatus,
    PrioritizationStatus,
    RiskStatus,
    TieRule,
)
from services.gateway.context import GatewayContext
from services.gateway.delivery import Gap, Measurement
from services.gateway.loading import Loaded, load
from services.gateway.numbers import written
from shared.commands.elicitation import (
    Comparison,
    Feasibility,
    Importance,
    Recurrence,
    RiskKind,
    Role,
    Side,
)
from shared.commands.ranking import Method
from shared.deadlines.timing import DeadlineKind


def relay_id(kind: str, key: str) -> strawberry.ID:
    """A Relay global id: the type and its key, opaque to clients; `node(id:)` reads it."""
    return strawberry.ID(base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode())


def jsonb(value: Any) -> Any:
    """A jsonb column's value (asyncpg hands jsonb over as text)."""
    return orjson.loads(value) if isinstance(value, str) else value


@strawberry.type(description="What makes an expectation measurable.")
class Terms:
    metric: str | None
    comparison: Comparison | None
    target: str | None
    target_upper: str | None
    unit: str | None
    deadline: date | None = strawberry.field(description="Met once, by this day.")
    recurrence: Recurrence | None
    measurement_method: str | None
    measured_by: str | None

    @staticmethod
    def of(terms: dict[str, Any] | None) -> Terms | None:
        if not terms:
            return None
        found = {k: None if terms.get(k) is None else str(terms[k]) for k in TERM_NAMES}
        for bound in ("target", "target_upper"):  # as a person writes it: 40000, never 4E+4
            if (value := found[bound]) is not None:
                found[bound] = written(Decimal(value))
        comparison, recurrence = found.pop("comparison"), found.pop("recurrence")
        deadline = found.pop("deadline")
        return Terms(
            comparison=None if comparison is None else Comparison(comparison),
            recurrence=None if recurrence is None else Recurrence(recurrence),
            deadline=None if deadline is None else date.fromisoformat(deadline),
            **found,
        )


# The terms an expectation states, as the events name them.
TERM_NAMES = (
    "metric", "comparison", "target", "target_upper", "unit", "deadline", "recurrence",
    "measurement_method", "measured_by",
)  # fmt: skip


@strawberry.type(description="The provider's expert view; shown beside priorities, never counted.")
class Advice:
    revision: int
    importance: Importance | None
    feasibility: Feasibility | None
    advice: str
    by: str
    at: str

    @staticmethod
    def of(a: dict[str, Any]) -> Advice:
        importance, feasibility = a.get("importance"), a.get("feasibility")
        return Advice(
            revision=a["revision"],
            importance=None if importance is None else Importance(importance),
            feasibility=None if feasibility is None else Feasibility(feasibility),
            advice=a["advice"],
            by=a["by"],
            at=a["at"],
        )


@strawberry.type(description="The provider's commitment to meet one revision of an expectation.")
class Commitment:
    revision: int = strawberry.field(description="The revision committed to.")
    note: str = strawberry.field(description="What the provider said on committing.")
    by: str = strawberry.field(description="Who committed, for the provider.")
    at: datetime = strawberry.field(description="When it committed.")


@strawberry.type(description="The provider's refusal of one revision of an expectation, and why.")
class Decline:
    revision: int = strawberry.field(description="The revision declined.")
    reason: str = strawberry.field(description="Why the provider declined.")
    by: str = strawberry.field(description="Who declined, for the provider.")
    at: datetime = strawberry.field(description="When it declined.")


@strawberry.type(description="Why an expectation was withdrawn, by whom and when.")
class Withdrawal:
    reason: str = strawberry.field(description="Why it was withdrawn.")
    by: str = strawberry.field(description="Who withdrew it.")
    at: datetime = strawberry.field(description="When it was withdrawn.")


@strawberry.type
class Expectation:
    id: strawberry.ID
    contract_id: strawberry.ID
    version: int
    revision: int
    text: str
    business_area: str
    why_it_matters: str
    measurable: bool
    missing_for_measurable: list[str] | None = strawberry.field(
        description="The fields of its `terms` still needed before it is measurable, named as"
        " `TermsInput` names them (`metric`, `comparison`, `target`, `targetUpper`, `unit`,"
        " `measurementMethod`); empty once it is measurable; null while no terms were given"
        " (before its first `refineExpectation`)."
    )
    status: ExpectationStatus
    proposers: list[str]
    merged_into: str | None
    merged_from: list[str]
    from_answers: list[str] = strawberry.field(
        description="The questions whose answers it came from (their ids)."
    )
    commitment: Commitment | None = strawberry.field(
        description="The provider's commitment, while it stands (a refinement reopens it)."
    )
    decline: Decline | None = strawberry.field(
        description="The provider's refusal, while it stands (a refinement reopens it)."
    )
    withdrawal: Withdrawal | None = strawberry.field(
        description="Why it was withdrawn, by whom and when; null unless it was."
    )
    corporate_priority: int | None
    # The whole state as stored: the nested parts are built only when a query asks for them.
    state: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="Its Relay global id, for `node(id:)`.")
    def global_id(self) -> strawberry.ID:
        return relay_id("Expectation", self.id)

    @strawberry.field
    def terms(self) -> Terms | None:
        return Terms.of(self.state.get("terms"))

    @strawberry.field(description=deadlines.DESCRIPTION)
    async def deadline(self, info: Info[GatewayContext, None]) -> deadlines.Deadline | None:
        # Its deadline runs once the provider commits; until then it is only proposed.
        due = deadlines.end_of((self.state.get("terms") or {}).get("deadline"))
        open = self.status in (ExpectationStatus.PROPOSED, ExpectationStatus.COMMITTED)
        return await deadlines.deadline(
            info, DeadlineKind.EXPECTATION, str(self.id), due, open=open
        )

    @strawberry.field(
        description="Whether the provider's commitment to it is suspect: the revision it was"
        " committed on was refined since." + suspects.OPEN_FLAGS
    )
    async def suspect(self, info: Info[GatewayContext, None]) -> suspects.SuspectStatus | None:
        return await suspects.suspect_status(info, str(self.id))

    @strawberry.field
    def advice(self) -> list[Advice]:
        return [Advice.of(a) for a in self.state.get("advice", [])]

    @strawberry.field(
        graphql_type=list[Measurement],
        description="Every value measured against it, newest period first.",
    )
    def measurements(self, info: Info[GatewayContext, None]) -> Loaded[Measurement]:
        return load(info, delivery.measurements_of, str(self.id))

    @strawberry.field(
        graphql_type=list[Gap],
        description="Every shortfall the provider acknowledged, with its recovery plan, oldest"
        " first.",
    )
    def gaps(self, info: Info[GatewayContext, None]) -> Loaded[Gap]:
        return load(info, delivery.gaps_of, str(self.id))

    @staticmethod
    def of(state: dict[str, Any], version: int, priority: int | None) -> Expectation:
        return Expectation(
            id=strawberry.ID(state["expectation_id"]),
            contract_id=state["contract_id"],
            version=version,
            revision=state["revision"],
            text=state["text"],
            business_area=state["business_area"],
            why_it_matters=state["why_it_matters"],
            measurable=state["measurable"],
            missing_for_measurable=_term_fields(state.get("missing_for_measurable")),
            status=ExpectationStatus(state["status"]),
            proposers=state["proposers"],
            merged_into=state.get("merged_into"),
            merged_from=state.get("merged_from", []),
            from_answers=list(state.get("from_answers", [])),
            commitment=_decision(Commitment, state.get("commitment")),
            decline=_decision(Decline, state.get("decline")),
            withdrawal=_decision(Withdrawal, state.get("withdrawal")),
            corporate_priority=priority,
            state=state,
        )


Decision = TypeVar("Decision", Commitment, Decline, Withdrawal)


def _term_fields(missing: list[str] | None) -> list[str] | None:
    """The service's names of term fields as `TermsInput` names them (`measurementMethod`)."""
    return None if missing is None else [camel(name) for name in missing]


def _decision(kind: type[Decision], found: dict[str, Any] | None) -> Decision | None:
    """A decision kept in an expectation's state (its moment as ISO text) as its type."""
    if found is None:
        return None
    return kind(**{**found, "at": datetime.fromisoformat(found["at"])})


@strawberry.type(
    description="One value that changed between two versions: a field, a term (`terms.target`),"
    " a part of a decision (`commitment.note`) or of one piece of advice (`advice.2.importance`)."
)
class FieldChange:
    field: str = strawberry.field(
        description="Its path, in the schema's names: fields joined by dots, list entries by"
        " their number from 1."
    )
    old: str | None = strawberry.field(
        description="The value before, as written (a number in its own digits, true or false);"
        " null if there was none or it is a list (see oldItems)."
    )
    new: str | None = strawberry.field(description="The value after, as `old`.")
    old_items: list[str] | None = strawberry.field(
        description="For a list of ids or names (proposers, mergedFrom...): its items before."
    )
    new_items: list[str] | None = strawberry.field(
        description="For a list of ids or names: its items after."
    )


@strawberry.type(description="One version of an expectation: what changed, who, when, why.")
class ExpectationVersion:
    version: int
    revision: int
    event_type: str = strawberry.field(
        description="The event that made this version (ExpectationRefined...)."
    )
    changed_at: datetime
    changed_by: str = strawberry.field(description="The person the event names as acting.")
    actor_role: str = strawberry.field(
        description="The role the event's envelope names for who acted: text, as it was then."
    )
    reason: str
    changes: list[FieldChange]
    state: Expectation = strawberry.field(
        description="The expectation as it stood after this version (its corporatePriority,"
        " measurements and gaps are today's: they are not versions of it)."
    )


def camel(name: str) -> str:
    """A field's name as the schema spells it (`target_upper` is `targetUpper`)."""
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _leaves(value: Any, path: str) -> dict[str, Any]:
    """Every value below `path`: a part of a document or of a list of documents by its own
    path; text, numbers, flags and lists of them are leaves."""
    if isinstance(value, dict):
        return {
            k: v for key in value for k, v in _leaves(value[key], f"{path}.{camel(key)}").items()
        }
    if value == []:
        return {}  # an empty list is as no value: none before, or none left
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return {
            k: v for n, item in enumerate(value, 1) for k, v in _leaves(item, f"{path}.{n}").items()
        }
    return {path: value}


def _written(value: Any) -> str | None:
    if value is None or isinstance(value, list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _items(value: Any) -> list[str] | None:
    return [str(item) for item in value] if isinstance(value, list) else None


def _as_shown(state: dict[str, Any]) -> dict[str, Any]:
    """A version's state with its values as `Expectation` shows them (term fields named)."""
    if "missing_for_measurable" not in state:
        return state
    return {**state, "missing_for_measurable": _term_fields(state["missing_for_measurable"])}


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[FieldChange]:
    """Values changed from one version's state to the next, each by its own path."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    before, after = None if before is None else _as_shown(before), _as_shown(after)
    for key in after.keys() | (before or {}).keys():
        if before is not None and key in before:
            old.update(_leaves(before[key], camel(key)))
        if key in after:
            new.update(_leaves(after[key], camel(key)))
    return [
        FieldChange(
            field=path,
            old=_written(old.get(path)),
            new=_written(new.get(path)),
            old_items=_items(old.get(path)),
            new_items=_items(new.get(path)),
        )
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]


@strawberry.type
class Participant:
    person_id: str
    name: str
    side: Side
    role: Role
    email: str
    active: bool


@strawberry.type(
    description="An auditor one side's appointer named, who joins once the other side's"
    " appointer confirms them (with the same `joinContract`)."
)
class AuditorNomination:
    person_id: str
    name: str
    side: Side = strawberry.field(description="The side the auditor takes part on.")
    nominated_by: str = strawberry.field(description="The appointer who named them.")
    nominated_at: datetime
    confirmers: list[str] = strawberry.field(
        description="Who could confirm them when they were named: the other side's appointers"
        " (its sponsors, else its first person). Empty for a nomination made before this was"
        " recorded."
    )


@strawberry.type
class Obligation:
    id: strawberry.ID
    contract_id: strawberry.ID
    what: str
    needed_from: str
    due_on: date
    depends_on: list[str]
    status: ObligationStatus
    decided_by: str | None
    decline_reason: str | None
    version: int

    @strawberry.field(description=deadlines.DESCRIPTION)
    async def deadline(self, info: Info[GatewayContext, None]) -> deadlines.Deadline | None:
        open = self.status in (ObligationStatus.PROPOSED, ObligationStatus.ACCEPTED)
        return await deadlines.deadline(
            info, DeadlineKind.OBLIGATION, str(self.id), deadlines.end_of(self.due_on), open=open
        )

    @strawberry.field(description=suspects.SUSPECT)
    async def suspect(self, info: Info[GatewayContext, None]) -> suspects.SuspectStatus | None:
        return await suspects.suspect_status(info, str(self.id))


@strawberry.type(description="A client decision maker confirmed they were told of a risk.")
class RiskAcknowledgement:
    person_id: str = strawberry.field(description="The client decision maker who confirmed.")
    at: datetime = strawberry.field(description="When they confirmed.")


@strawberry.type
class RemedialAction:
    action: str
    taken_by: str
    at: datetime


@strawberry.type
class Risk:
    id: strawberry.ID
    contract_id: strawberry.ID
    kind: RiskKind
    title: str
    description: str
    likelihood: int
    impact: int
    exposure: int
    affected_expectations: list[str]
    prepare_for: str
    acknowledged: bool = strawberry.field(
        description="True once a client decision maker confirmed they were told: only then"
        " does the disclosure count."
    )
    status: RiskStatus
    resolution: str | None
    version: int
    remedial_actions: list[RemedialAction]
    disclosed_by: str = strawberry.field(description="Who disclosed it, for the provider.")
    disclosed_at: datetime = strawberry.field(description="When it was disclosed.")
    acknowledgements: list[RiskAcknowledgement] = strawberry.field(
        description="Who confirmed they were told, and when, first first."
    )
    resolved_by: str | None = strawberry.field(
        description="Who resolved it; null while it is open."
    )
    resolved_at: datetime | None = strawberry.field(
        description="When it was resolved; null while it is open."
    )

    @strawberry.field(
        description="Its acknowledgement's deadline (the contract's acknowledgement window"
        " from its disclosure): the time left and where it stands."
    )
    async def deadline(self, info: Info[GatewayContext, None]) -> deadlines.Deadline | None:
        due = await deadlines.acknowledgement_due(info, self.contract_id, self.disclosed_at)
        open = not self.acknowledged and self.status is RiskStatus.OPEN
        return await deadlines.deadline(
            info, DeadlineKind.RISK_ACKNOWLEDGEMENT, str(self.id), due, open=open
        )

    @strawberry.field(description=suspects.SUSPECT)
    async def suspect(self, info: Info[GatewayContext, None]) -> suspects.SuspectStatus | None:
        return await suspects.suspect_status(info, str(self.id))


@strawberry.type(description="A probing question asked of a decision maker, and its answer.")
class Question:
    id: strawberry.ID = strawberry.field(description="What answerQuestion takes.")
    contract_id: strawberry.ID
    asked_of: str = strawberry.field(description="The client decision maker asked.")
    business_area: str = strawberry.field(description="The business area it probes.")
    text: str = strawberry.field(description="The question as asked.")
    asked_by: str = strawberry.field(description="Who asked it.")
    asked_at: datetime = strawberry.field(description="When it was asked.")
    answer: str | None = strawberry.field(description="Null until an answer is recorded.")
    answered_by: str | None = strawberry.field(
        description="Who gave the answer; null until one is recorded."
    )
    recorded_by: str | None = strawberry.field(
        description="Who recorded the answer (it may be someone else than who gave it)."
    )
    answered_at: datetime | None = strawberry.field(
        description="When the answer was recorded; null until then."
    )
    expectations: list[Expectation] = strawberry.field(
        description="The expectations proposed from its answer, as proposed."
    )
    version: int | None = strawberry.field(
        default=None,
        description="Its version, as answerQuestion's `expectedVersion` names it; null for a"
        " question recorded on its contract (asked before questions were records of their"
        " own), whose answer names the contract's version.",
    )


@strawberry.type(description="Preventive work planned from a lesson: what, who, by when.")
class PreventiveAction:
    id: strawberry.ID
    action: str = strawberry.field(description="What will be done.")
    owner: str = strawberry.field(description="The participant who carries it out.")
    due_on: date = strawberry.field(description="By when.")
    planned_by: str = strawberry.field(description="Who planned it.")
    planned_at: datetime = strawberry.field(description="When it was planned.")


@strawberry.type(description="A lesson learned, linked to the risks and expectations it is about.")
class Lesson:
    id: strawberry.ID = strawberry.field(description="What planPreventiveAction takes.")
    contract_id: strawberry.ID
    lesson: str = strawberry.field(description="What was learned.")
    risk_ids: list[str] = strawberry.field(description="The risks it is about.")
    expectation_ids: list[str] = strawberry.field(description="The expectations it is about.")
    learned_by: str = strawberry.field(description="Who recorded it.")
    learned_at: datetime = strawberry.field(description="When it was recorded.")
    preventive_actions: list[PreventiveAction] = strawberry.field(
        description="The preventive work planned from it, by due date."
    )
    version: int = strawberry.field(
        default=1,
        description="Its version, as planPreventiveAction's `expectedVersion` names it (one more"
        " with each action planned).",
    )


@strawberry.type
class Ballot:
    voter: str
    ranking: list[str] | None = strawberry.field(
        description="The expectations in the voter's order, first first; null with dots."
    )
    dots: list[DotsGiven] | None = strawberry.field(
        description="With the dots method: the dots put on each expectation, most first."
    )


@strawberry.type(description="Dots a voter put on one expectation.")
class DotsGiven:
    expectation_id: strawberry.ID = strawberry.field(description="The expectation the dots are on.")
    dots: int = strawberry.field(description="How many dots.")

    @staticmethod
    def of(dots: dict[str, int] | None) -> list[DotsGiven] | None:
        if dots is None:
            return None
        ordered = sorted(dots.items(), key=lambda given: (-given[1], given[0]))
        return [DotsGiven(expectation_id=strawberry.ID(e), dots=n) for e, n in ordered]


@strawberry.type
class VoterDistance:
    voter: str
    distance: float
    furthest: bool


@strawberry.type
class RankedExpectation:
    position: int
    expectation_id: strawberry.ID
    score: int
    advice: list[str]

    @strawberry.field(
        description="The expectation ranked here, as it stands now (below a contract's `asOf`:"
        " as it stood then); null if the read model does not hold it."
    )
    async def expectation(self, info: Info[GatewayContext, None]) -> Expectation | None:
        loading = load(info, expectation_rows.latest_by_id, self.expectation_id)
        rows = loading if isinstance(loading, list) else await loading
        if not rows:
            return None
        return Expectation.of(jsonb(rows[0]["state"]), rows[0]["version"], rows[0]["position"])


@strawberry.type(description="One step of breaking a tie, so that a facilitator can explain it.")
class TieBreak:
    position: int = strawberry.field(
        description="The first place (1 for the top) the tied expectations competed for."
    )
    candidates: list[str] = strawberry.field(description="The expectations that were level.")
    rule: TieRule
    values: list[TieValue] = strawberry.field(
        description="Each candidate's value under the rule; empty for EXPECTATION_ID."
    )
    order: list[list[str]] = strawberry.field(
        description="The groups the rule made, best first; a group of several is broken by a"
        " later step."
    )


@strawberry.type(description="An expectation's value under a tie rule.")
class TieValue:
    expectation_id: strawberry.ID = strawberry.field(description="One of the tied expectations.")
    value: int = strawberry.field(
        description="Its head-to-head wins among the tied, or its first places, as the rule counts."
    )


@strawberry.type(description="How many voters put one expectation above another.")
class PairwiseCount:
    above: str = strawberry.field(description="The expectation put above.")
    below: str = strawberry.field(description="The expectation put below.")
    voters: int = strawberry.field(
        description="How many voters put `above` above `below` (with dots: gave it more dots)."
    )


@strawberry.type(description="The published corporate ranking and how far the group agreed.")
class Ranking:
    method: Method
    entries: list[RankedExpectation]
    concordance: float
    distances: list[VoterDistance]
    most_contested: list[str]
    ties: list[TieBreak] = strawberry.field(
        description="Every step that broke a tie, in the order taken; empty if none."
    )
    pairwise: list[PairwiseCount] = strawberry.field(
        description="The head-to-head counts behind the ranking, for every ordered pair."
    )
    voted: int
    eligible: int


@strawberry.type
class Prioritization:
    id: strawberry.ID
    contract_id: strawberry.ID
    method: Method
    status: PrioritizationStatus
    expectations: list[str]
    voters: list[str]
    closes_at: datetime | None
    version: int
    ballots: list[Ballot]
    ranking: Ranking | None

    @strawberry.field(description="Its closing time's deadline: the time left and where it stands.")
    async def deadline(self, info: Info[GatewayContext, None]) -> deadlines.Deadline | None:
        open = self.status is PrioritizationStatus.OPEN
        return await deadlines.deadline(
            info, DeadlineKind.PRIORITIZATION, str(self.id), self.closes_at, open=open
        )

    @strawberry.field(description="Its Relay global id, for `node(id:)`.")
    def global_id(self) -> strawberry.ID:
        return relay_id("Prioritization", self.id)


def ranking_of(row: Any) -> Ranking:
    result, agreement, advice = jsonb(row["result"]), jsonb(row["agreement"]), jsonb(row["advice"])
    furthest = set(agreement["furthest"])
    return Ranking(
        method=Method(row["method"]),
        entries=[
            RankedExpectation(
                position=n, expectation_id=e, score=result["scores"][e], advice=advice.get(e, [])
            )
            for n, e in enumerate(row["ranking"], start=1)
        ],
        concordance=agreement["concordance"],
        distances=[
            VoterDistance(voter=v, distance=d, furthest=v in furthest)
            for v, d in sorted(agreement["distances"].items())
        ],
        most_contested=list(agreement["most_contested"]),
        ties=[
            TieBreak(
                position=t["position"],
                candidates=list(t["candidates"]),
                rule=TieRule(t["rule"]),
                values=[TieValue(expectation_id=e, value=v) for e, v in t["values"].items()],
                order=[list(group) for group in t["order"]],
            )
            for t in result["ties"]
        ],
        pairwise=[
            PairwiseCount(above=a, below=b, voters=n)
            for a, row in sorted(result["pairwise"].items())
            for b, n in sorted(row.items())
        ],
        voted=row["turnout_voted"],
        eligible=row["turnout_eligible"],
    )


@strawberry.type(description="One event of one service, as recorded, for auditors.")
class AuditEntry:
    event_id: strawberry.ID
    event_type: str
    occurred_at: datetime
    actor_id: str
    actor_role: str = strawberry.field(
        description="The role the event's envelope names for who acted: text, as it was then."
    )
    subject: str
    sequence: int
    correlation_id: str
    causation_id: str
    data: JSON = strawberry.field(
        description="The event's data as published (snake_case, as in the event catalogue):"
        " open, because each of the event types has its own shape, documented in AsyncAPI."
    )
