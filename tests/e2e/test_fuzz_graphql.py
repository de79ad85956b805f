"""Nothing a user sends through GraphQL breaks Accord: operations generated from the schema
served by the real `accord dev`, on real ids, as every role, an outsider and nobody.

It fails on any HTTP 5xx and on any GraphQL error without a code (a masked internal error),
and prints one figure per run: examples sent, refusals by code, internal errors (goal 0).
FUZZ_EXAMPLES sets how many operations (a few hundred by default); every run prints its seed,
and FUZZ_SEED replays one.
"""

from __future__ import annotations

import json
import os
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.accord_process import accord_env, accord_running
from tests.e2e.seeded_contract import OUTSIDER, PEOPLE, SeededContract, seed_contract

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 500)
SEED = int(os.environ.get("FUZZ_SEED") or random.randrange(2**32))
# What a client must never see: no code at all is a masked internal error.
INTERNAL_CODES = {None, "INTERNAL", "INTERNAL_SERVER_ERROR"}
ANONYMOUS = "(no token)"
KINDS = {"contract", "question", "expectation", "obligation", "risk", "measurement", "gap",
         "lesson", "prioritization", "notice", "notification", "global"}  # fmt: skip

# Words the domain accepts, so that generated input gets past the first check now and then.
VOCABULARY = [
    "client", "provider", "client_decision_maker", "client_sponsor", "provider_account_manager",
    "provider_delivery_lead", "auditor", "borda", "schulze", "kemeny", "dots", "at_least",
    "at_most", "equal", "within_range", "daily", "monthly", "yearly", "low", "high", "critical",
    "feasible", "stretch", "not_feasible", "problem", "preconditioning", "dead_lettered",
    "queued", "delivered", "ExpectationRefined", "0", "1", "99.5", "-1", "1e-20000", "1e400",
    "NaN", "Infinity", "2027-01-31", "2027-02-30", "", " ", "\x00", "a\x00b", "\u202e", "%00",
    "../x?y=", "x" * 300,
]  # fmt: skip
# Instants at the edges of what Python and PostgreSQL hold, and some that are no instant.
INSTANTS = [
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00",
    "9999-12-31T23:59:59.999999+00:00", "2027-02-30T00:00:00Z", "last tuesday", "", "24:00",
]  # fmt: skip
DATES = ["0001-01-01", "9999-12-31", "2027-02-30", "2027-13-01", "yesterday", "", "20270101"]


def test_no_generated_operation_meets_an_internal_error(capsys: pytest.CaptureFixture[str]) -> None:
    say = _terminal(capsys)
    say(f"fuzz graphql: seed {SEED}, {EXAMPLES} examples (replay: FUZZ_SEED={SEED})")
    # Not under pytest's temporary root: another pytest session starting makes that private
    # again (0700), and the embedded PostgreSQL runs as its own account.
    with (
        tempfile.TemporaryDirectory(prefix="accord-fuzz-") as data,
        accord_running(None, accord_env(Path(data))) as accord,
        httpx.Client() as http,
    ):
        url = accord.url
        seeded = seed_contract(url)
        # Real ids of every kind, and a token for every role: else the fuzzer probes less.
        assert seeded.ids.keys() >= KINDS, seeded.refused_steps
        assert seeded.people == PEOPLE, seeded.refused_steps
        schema = _served_schema(http, url)
        callers = _callers(seeded)
        generated = operations(schema, seeded)
        tally = Tally()
        started = time.monotonic()

        @seed(SEED)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.generate],  # every example goes to the server once; none are shrunk
            suppress_health_check=list(HealthCheck),
        )
        @given(st.data())
        def send(data: st.DataObject) -> None:
            caller = data.draw(st.sampled_from(sorted(callers)), label="caller")
            text = data.draw(generated, label="operation")
            query, variables = shaped(schema, text, seeded, data.draw)
            tally.send(http, url, caller, callers[caller], query, variables)
            if accord.process.poll() is not None:
                pytest.fail(f"accord dev stopped at example {tally.sent} ({caller}: {query!r},"
                            f" {variables}); its last words:\n{accord.output[-5000:]}")  # fmt: skip

        try:
            send()
        finally:
            say(tally.figure(SEED, time.monotonic() - started))
    # Read once the server has stopped: its log then holds the last request's traceback too.
    failures = tally.distinct_failures(accord.output)
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


def operations(schema: graphql.GraphQLSchema, seeded: SeededContract) -> st.SearchStrategy[str]:
    """Queries and mutations, most valid, some with one violation of the schema."""
    scalars = _scalars(seeded)
    valid = from_schema(schema, custom_scalars=scalars, mode=Mode.POSITIVE)
    invalid = from_schema(schema, custom_scalars=scalars, mode=Mode.NEGATIVE)
    return st.one_of(valid, valid, valid, invalid)


def _scalars(seeded: SeededContract) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    ids = seeded.all_ids()
    obligation, session = seeded.ids["obligation"][0], seeded.ids["prioritization"][0]
    # Ids that try to leave their place in a forwarding URL or a query.
    crafted = [f"../obligations/{obligation}/fulfil?x=", f"{session}/votes/withdraw?x=",
               f"{seeded.contract}\x00", "%2e%2e", "..", "/"]  # fmt: skip
    text = st.text(st.characters(codec="utf-8"), max_size=40)
    identifier = st.one_of(
        _mostly(st.sampled_from(ids), st.sampled_from(crafted) | st.uuids().map(str) | text).map(
            nodes.String
        ),
        st.integers().map(nodes.Int),
    )
    string = st.one_of(st.sampled_from(VOCABULARY + ids), text).map(nodes.String)
    # Mostly values a user would send, so that one bad date does not refuse the whole
    # operation every time; now and then the edges of the calendar and no date at all.
    zones = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-14))])
    instant = _mostly(
        st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=zones),
        st.datetimes(timezones=zones),
    ).map(datetime.isoformat) | st.sampled_from(INSTANTS)
    day = _mostly(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.dates()).map(str)
    day |= st.sampled_from(DATES)
    # Targets and measured values: mostly numbers as text, now and then what is not one.
    number = _mostly(
        st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**6,
                    max_value=10**6).map(str).map(nodes.String),
        st.sampled_from(["1e400", "NaN", "-0", "0.0000001", "1e15", "x"]).map(nodes.String)
        | st.integers().map(nodes.Int)
        | st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
    )  # fmt: skip
    # Durations (a health trend's period, an acknowledgement window): ISO 8601, now and then
    # none, negative, or past what a date can hold.
    duration = _mostly(
        st.integers(0, 10**7).map(lambda seconds: f"PT{seconds}S") | st.sampled_from(["P7D", "P1M"]),
        st.sampled_from(["", "x", "-P1D", "PT0S", "P999999999D", "7 days"]),
    )  # fmt: skip
    return {"ID": identifier, "String": string, "Date": day.map(nodes.String),
            "DateTime": instant.map(nodes.String), "Decimal": number,
            "Duration": duration.map(nodes.String),
            "JSON": _json_values(len(seeded.ids.get("expectation", [])))}  # fmt: skip


def _mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Three times in four the usual, else the odd."""
    return st.one_of(usual, usual, usual, odd)


def _json_values(expectations: int) -> st.SearchStrategy[graphql.ValueNode]:
    """JSON literals; an object's keys `e0`, `e1`... stand for the seeded expectations (a
    GraphQL name cannot hold a UUID) and become their ids when lifted into variables."""
    keys = st.sampled_from([f"e{n}" for n in range(expectations)] + ["x", "dots"])
    leaves = st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False,
        allow_infinity=False), st.text(max_size=10),
    )  # fmt: skip
    values = st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=8,
    )
    return values.map(_literal)


def _literal(value: Any) -> graphql.ValueNode:
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([_literal(v) for v in value])
    return nodes.Object(
        [graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=_literal(v))
         for k, v in value.items()]
    )  # fmt: skip


# Arguments and input fields that name a record of one kind, and a root field's own `id`.
ID_KINDS = {
    "contractId": "contract", "expectationId": "expectation", "mergedExpectationId": "expectation",
    "obligationId": "obligation", "riskId": "risk", "prioritizationId": "prioritization",
    "questionId": "question", "measurementId": "measurement", "gapId": "gap",
    "noticeId": "notice", "affectedExpectations": "expectation", "dependsOn": "expectation",
    "expectationIds": "expectation", "riskIds": "risk", "fromAnswers": "question",
    "ranking": "expectation",
}  # fmt: skip
ROOT_ID_KINDS = {
    "contract": "contract", "expectation": "expectation", "expectationHistory": "expectation",
    "prioritization": "prioritization", "node": "global", "acknowledgeNotification": "notification",
}  # fmt: skip

# Numbers a user would send for these names, so that a random expected version does not end
# most commands in CONFLICT; now and then whatever was generated.
PLAUSIBLE = {
    "expectedVersion": st.none() | st.integers(1, 6), "mergedExpectedVersion": st.integers(1, 6),
    "version": st.integers(1, 4), "step": st.integers(0, 2), "likelihood": st.integers(1, 5),
    "impact": st.integers(1, 5), "dots": st.integers(1, 10), "first": st.integers(1, 100),
}  # fmt: skip

Draw = Callable[[st.SearchStrategy[Any]], Any]


def shaped(
    schema: graphql.GraphQLSchema, text: str, seeded: SeededContract, draw: Draw
) -> tuple[str, dict[str, Any]]:
    """A generated operation made to reach further: an id argument often names a real record
    of its kind, each mutation also asks its outcome, and the arguments may go as variables."""
    document = graphql.parse(text)
    operation = document.definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    root = schema.get_root_type(operation.operation)
    assert root is not None
    lifting = draw(st.booleans())
    variables: dict[str, Any] = {}
    definitions: list[graphql.VariableDefinitionNode] = []
    selections = []
    for selection in operation.selection_set.selections:
        field = (
            root.fields.get(selection.name.value)
            if isinstance(selection, graphql.FieldNode)
            else None
        )
        if field is None or not isinstance(selection, graphql.FieldNode):
            selections.append(selection)
            continue
        arguments = []
        for argument in selection.arguments or ():
            kind = ID_KINDS.get(argument.name.value)
            if argument.name.value == "id":
                kind = ROOT_ID_KINDS.get(selection.name.value)
            value = _plausible(argument.name.value, argument.value, kind, seeded, draw)
            declared = field.args.get(argument.name.value)
            if lifting and declared is not None:  # an unknown argument stays, to be refused
                value = _variable(value, declared.type, seeded, variables, definitions)
            arguments.append(replace(argument, value=value))
        selection = replace(selection, arguments=tuple(arguments))
        selections.append(_asking_outcome(selection, field))
    operation = replace(
        operation,
        variable_definitions=tuple(definitions),
        selection_set=replace(operation.selection_set, selections=tuple(selections)),
    )
    return graphql.print_ast(replace(document, definitions=(operation,))), variables


def _plausible(
    name: str, value: graphql.ValueNode, kind: str | None, seeded: SeededContract, draw: Draw
) -> graphql.ValueNode:
    """The value, or often the id of a real record of its kind (a few, for a list of ids), or a
    number a user would send for its name; in input objects too."""
    if isinstance(value, graphql.ObjectValueNode):
        fields = tuple(
            replace(field, value=_plausible(field.name.value, field.value,
                                            ID_KINDS.get(field.name.value), seeded, draw))
            for field in value.fields
        )  # fmt: skip
        return replace(value, fields=fields)
    if isinstance(value, graphql.VariableNode):
        return value
    if name in PLAUSIBLE:
        number = draw(_mostly(PLAUSIBLE[name], st.just(value)))
        if isinstance(number, graphql.Node):
            return number
        return graphql.NullValueNode() if number is None else nodes.Int(number)
    real = seeded.ids.get(kind or "", [])
    if not real or isinstance(value, graphql.NullValueNode):
        return value
    if isinstance(value, graphql.ListValueNode):
        chosen = draw(_mostly(st.lists(st.sampled_from(real), max_size=3, unique=True), st.none()))
        return value if chosen is None else nodes.List([nodes.String(i) for i in chosen])
    chosen = draw(_mostly(st.sampled_from(real), st.none()))
    return value if chosen is None else nodes.String(chosen)


def _variable(
    value: graphql.ValueNode,
    type_: graphql.GraphQLInputType,
    seeded: SeededContract,
    variables: dict[str, Any],
    definitions: list[graphql.VariableDefinitionNode],
) -> graphql.VariableNode:
    """The value sent as a variable of the argument's declared type: one that fails coercion
    must get the same answer as when it is written inline."""
    name = f"v{len(variables)}"
    expectations = seeded.ids.get("expectation", [])
    stands_for = {f"e{n}": expectation for n, expectation in enumerate(expectations)}
    variables[name] = _with_ids(graphql.value_from_ast_untyped(value), stands_for)
    variable = graphql.VariableNode(name=graphql.NameNode(value=name))
    definitions.append(
        graphql.VariableDefinitionNode(variable=variable, type=graphql.parse_type(str(type_)))
    )
    return variable


def _asking_outcome(selection: graphql.FieldNode, field: graphql.GraphQLField) -> graphql.FieldNode:
    """A mutation's selection also asking the refusal's code, or whether the read model showed
    the change: what the figure counts, whatever else was generated."""
    outcome = graphql.get_named_type(field.type)
    members = outcome.types if isinstance(outcome, graphql.GraphQLUnionType) else ()
    if not any(i.name == "Refusal" for member in members for i in member.interfaces):
        return selection
    shown = " ".join(
        f"... on {member.name} {{ consistent }}"
        for member in members
        if "consistent" in member.fields
    )
    extra = graphql.parse(f"{{ ... on Refusal {{ code }} {shown} }}", no_location=True)
    operation = extra.definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    existing = selection.selection_set.selections if selection.selection_set else ()
    selections = (*existing, *operation.selection_set.selections)
    return replace(selection, selection_set=graphql.SelectionSetNode(selections=selections))


def _with_ids(value: Any, stands_for: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {stands_for.get(k, k): _with_ids(v, stands_for) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_ids(v, stands_for) for v in value]
    return value


@dataclass
class Failure:
    """One answer a client must never get, with what was sent (only the root field that
    failed, when the answer names it)."""

    caller: str
    query: str
    variables: dict[str, Any]
    status: int
    answer: str
    request_id: str

    def size(self) -> int:
        return len(self.query) + len(json.dumps(self.variables))


@dataclass
class Tally:
    """What the server answered, counted; the failures kept with what caused them."""

    sent: int = 0
    answered: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    unseen_writes: int = 0
    failures: list[Failure] = field(default_factory=list)

    def send(
        self,
        http: httpx.Client,
        url: str,
        caller: str,
        headers: dict[str, str],
        query: str,
        variables: dict[str, Any],
    ) -> None:
        self.sent += 1
        request_id = f"fuzz-{SEED}-{self.sent}"

        def fail(status: int, answer: str, root: str | None = None) -> None:
            sent = only_field(query, variables, root) if root else (query, variables)
            self.failures.append(Failure(caller, *sent, status, answer, request_id))

        try:
            response = http.post(
                url,
                json={"query": query, "variables": variables},
                headers={**headers, "x-request-id": request_id},
                timeout=30,
            )
        except httpx.TransportError as error:
            fail(0, f"no answer: {error!r}")
            return
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 500 or not isinstance(body, dict):
            fail(response.status_code, response.text)
            return
        for error in body.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            if code in INTERNAL_CODES:
                root = (error.get("path") or [None])[0] or _root_using(query, error)
                fail(response.status_code, json.dumps(error), root)
            else:
                self.refusals[code] += 1
        for root, answer in (body.get("data") or {}).items():
            codes = [found.get("code") for found in _objects(answer)]
            self.answered += answer is not None and not any(codes)
            for found in _objects(answer):
                code = found.get("code")  # only the Refusal types have a code
                if code in INTERNAL_CODES - {None}:
                    fail(response.status_code, json.dumps(found), root)
                elif isinstance(code, str):
                    self.refusals[code] += 1
                if found.get("consistent") is False:
                    self.unseen_writes += 1

    def figure(self, seed: int, seconds: float) -> str:
        refusals = ", ".join(f"{code} {n}" for code, n in self.refusals.most_common()) or "none"
        return (
            f"fuzz graphql: seed {seed}: {self.sent} examples sent in {seconds:.0f} s;"
            f" root fields answered: {self.answered}; refusals by code: {refusals};"
            f" written but not yet shown: {self.unseen_writes};"
            f" internal errors: {len(self.failures)} (goal 0)"
        )

    def distinct_failures(self, log: str) -> list[str]:
        """Each distinct fault (the exception and the project's frames it went through, from
        the server's log), how often it was met, and the smallest example that met it."""
        faults: dict[tuple[str, str], list[tuple[Failure, str]]] = {}
        for failure in self.failures:
            kind, where, exception = fault_of(log, failure)
            faults.setdefault((kind, where), []).append((failure, exception))
        reports = []
        for (_, where), met in sorted(faults.items()):
            smallest, exception = min(met, key=lambda pair: pair[0].size())
            reports.append(f"{len(met)} x {exception}\n  at {where}\n  {_example(smallest)}")
        return reports


def only_field(query: str, variables: dict[str, Any], root: str) -> tuple[str, dict[str, Any]]:
    """The operation reduced to one root field (by its alias or name) and the variables it uses."""
    document = graphql.parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    kept = tuple(
        selection
        for selection in operation.selection_set.selections
        if isinstance(selection, graphql.FieldNode)
        and (selection.alias or selection.name).value == root
    )
    used = set().union(*(_variables_in(selection) for selection in kept))
    definitions = tuple(
        d for d in operation.variable_definitions or () if d.variable.name.value in used
    )
    reduced = replace(
        operation,
        variable_definitions=definitions,
        selection_set=replace(operation.selection_set, selections=kept),
    )
    return graphql.print_ast(replace(document, definitions=(reduced,))), {
        name: value for name, value in variables.items() if name in used
    }


def _variables_in(node: graphql.Node) -> set[str]:
    used: set[str] = set()

    class Uses(graphql.Visitor):
        def enter_variable(self, node: graphql.VariableNode, *_: Any) -> None:
            used.add(node.name.value)

    graphql.visit(node, Uses())
    return used


def _root_using(query: str, error: dict[str, Any]) -> str | None:
    """The root field using the variable an error points at (a value that fails coercion
    names no path, only where its variable is declared)."""
    source = graphql.Source(query)
    operation = graphql.parse(source).definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    at = {(place["line"], place["column"]) for place in error.get("locations") or []}
    named = set()
    for definition in operation.variable_definitions or ():
        place = graphql.get_location(source, definition.loc.start) if definition.loc else None
        if place and (place.line, place.column) in at:
            named.add(definition.variable.name.value)
    for selection in operation.selection_set.selections:
        if isinstance(selection, graphql.FieldNode) and named & _variables_in(selection):
            return (selection.alias or selection.name).value
    return None


def _example(failure: Failure) -> str:
    variables = f"\n  variables: {json.dumps(failure.variables)}" if failure.variables else ""
    return (
        f"as {failure.caller}, HTTP {failure.status}:\n{_indent(failure.query)}{variables}\n"
        f"  answer: {failure.answer[:300]}"
    )


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from _objects(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _objects(inner)


CHAIN = (" ", "Traceback", "During handling", "The above")
FRAME = re.compile(r'File "(?:/[^"]*/)?((?:services|shared|accord)/[^"]+)", line \d+, in (\w+)')


def fault_of(log: str, failure: Failure) -> tuple[str, str, str]:
    """What the gateway logged for the failure's request: the exception's type, the project's
    frames it went through (innermost last: where to fix it), and the exception itself."""
    trace = traceback_of(log, failure.request_id)
    if not trace:
        return "(nothing logged)", f"HTTP {failure.status}", failure.answer[:160]
    raised = [line for line in trace.splitlines() if line and not line.startswith(CHAIN)]
    exception = raised[-1] if raised else "?"
    frames = " > ".join(dict.fromkeys(f"{path}:{name}" for path, name in FRAME.findall(trace)))
    return exception.split(":")[0], frames or "(no frame of the project)", exception[:200]


def traceback_of(log: str, request_id: str) -> str:
    """The traceback the gateway logged for this request, if it logged one: up to the last
    exception of its chain."""
    start = log.find(f"request {request_id}\n")
    if start < 0:
        return ""
    lines = log[start:].splitlines()[1:]
    for n, line in enumerate(lines):
        if not line or line.startswith(CHAIN):
            continue
        following = next((later for later in lines[n + 1 :] if later), "")
        if not following.startswith(("During handling", "The above")):
            return "\n".join(lines[: n + 1])
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _served_schema(http: httpx.Client, url: str) -> graphql.GraphQLSchema:
    """The schema as the running gateway serves it (introspection is on in development)."""
    response = http.post(url, json={"query": graphql.get_introspection_query()}, timeout=30)
    return graphql.build_client_schema(response.json()["data"])


def _callers(seeded: SeededContract) -> dict[str, dict[str, str]]:
    """Headers for each person on the contract, an outsider, and someone with no token."""
    tokens = {person: mint_token(Settings(), person) for person in [*seeded.people, OUTSIDER]}
    headers = {person: {"authorization": f"Bearer {token}"} for person, token in tokens.items()}
    return {**headers, ANONYMOUS: {}}


def _terminal(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Writes a line to the terminal even under `pytest -q` and output capture."""

    def say(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    return say
