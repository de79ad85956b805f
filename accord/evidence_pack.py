"""What an evidence pack holds for one contract, read from the gateway's read models and from
each service's verified log: the timeline, every expectation's versions with what changed,
the baselines with their signatures, the prioritizations with their ballots and agreement,
and what verifying the stored events found, against which checkpoint."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from psycopg.rows import dict_row
from pydantic import ValidationError

from services.gateway.projections.schema import SCHEMA_NAME
from shared.audit import store
from shared.audit.checkpoint import KeptCheckpoint
from shared.schemas.baseline_content import content_hash

# A row as psycopg's dict_row answers it.
Row = dict[str, Any]

# The services whose logs are verified, each in its own schema.
AUDITED = ("elicitation", "ranking", "notifications")
# The timeline's events that people caused; the notifications service's own bookkeeping
# (notices queued and delivered) is listed apart so it does not drown them.
PEOPLES_SERVICES = ("elicitation", "ranking")
# Where an event says why it happened, in the order a reader would look.
WHY_FIELDS = ("reason", "note", "cause", "advice", "answer", "resolution", "meaning", "what")


class UnknownContract(Exception):
    """No contract with this id in the read models."""

    code = "UNKNOWN_CONTRACT"


class InvalidContractId(ValueError):
    """The contract id given is not a UUID."""

    code = "ID_INVALID"


@dataclass(frozen=True)
class Change:
    """One value that differs between two versions, named by its path in the state."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Version:
    """One version of an expectation: who made it, when, in which role, why, what changed."""

    version: int
    revision: int
    event_type: str
    changed_at: datetime
    changed_by: str
    actor_id: str
    actor_role: str
    reason: str
    changes: list[Change]


@dataclass(frozen=True)
class ExpectationHistory:
    expectation_id: str
    text: str
    status: str
    corporate_priority: int | None
    versions: list[Version]


@dataclass(frozen=True)
class Happening:
    """One event of the contract's timeline."""

    occurred_at: datetime
    service: str
    event_type: str
    subject: str
    actor_id: str
    actor_role: str
    why: str


@dataclass(frozen=True)
class Participant:
    person_id: str
    name: str
    side: str
    role: str
    active: bool
    added_by: str
    joined_at: datetime


@dataclass(frozen=True)
class Signature:
    signer: str
    printed_name: str
    role: str
    meaning: str
    signed_at: datetime
    authenticated_at: datetime
    content_hash: str


@dataclass(frozen=True)
class Baseline:
    baseline_id: str
    title: str
    proposed_by: str
    proposed_at: datetime
    required_roles: list[str]
    complete: bool
    content_hash: str
    # The hash recomputed here from the stored content (None: the content no longer parses).
    recomputed_hash: str | None
    # How many of each kind of item the baseline froze.
    frozen: dict[str, int]
    ranked: bool
    signatures: list[Signature]
    revoked_by: str | None = None
    revocation_reason: str | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class Ballot:
    voter: str
    cast_at: datetime
    ranking: list[str] | None
    dots: dict[str, int] | None
    # The ballot's distance from the corporate ranking (0: the same order), once published.
    distance: float | None


@dataclass(frozen=True)
class Prioritization:
    session_id: str
    method: str
    status: str
    opened_by: str
    opened_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    voters: list[str]
    ballots: list[Ballot]
    # The published corporate ranking, most important first, and its agreement measures.
    ranking: list[str] | None = None
    concordance: float | None = None
    turnout: tuple[int, int] | None = None
    furthest: list[str] = field(default_factory=list)
    most_contested: list[str] = field(default_factory=list)
    published_at: datetime | None = None


@dataclass(frozen=True)
class CheckedAgainst:
    """A checkpoint a service's log was verified against, and where it came from."""

    origin: str
    checkpoint: KeptCheckpoint


@dataclass(frozen=True)
class ServiceCheck:
    service: str
    events: int
    unchained: int
    checkpoints: list[CheckedAgainst]
    findings: list[str]


@dataclass(frozen=True)
class Verification:
    services: list[ServiceCheck]

    @property
    def findings(self) -> int:
        return sum(len(s.findings) for s in self.services)

    @property
    def verified(self) -> bool:
        return self.findings == 0


@dataclass(frozen=True)
class Contract:
    contract_id: str
    title: str
    client_organisation: str
    provider_organisation: str
    starts_on: str
    opened_by: str
    opened_at: datetime


@dataclass(frozen=True)
class Pack:
    contract: Contract
    generated_at: datetime
    participants: list[Participant]
    timeline: list[Happening]
    system_events: list[Happening]
    expectations: list[ExpectationHistory]
    baselines: list[Baseline]
    prioritizations: list[Prioritization]
    verification: Verification
    # Names to show for ids: people by their person id, items by theirs.
    names: dict[str, str]
    labels: dict[str, str]


def contract_id_of(text: str) -> str:
    """The contract id as the read models write it, or InvalidContractId."""
    try:
        return str(UUID(text))
    except ValueError:
        raise InvalidContractId(f"{text!r} is not a contract id (a UUID)") from None


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Every value that differs between two states, by path (`terms.target`, `advice[0].text`);
    a value that appears or disappears is a change from or to nothing."""
    old, new = _flat(before), _flat(after)
    return [
        Change(path, old.get(path), new.get(path))
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]


def _flat(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flat(item, f"{path}.{key}" if path else str(key)))
        return flat
    if isinstance(value, list) and value:
        flat = {}
        for index, item in enumerate(value):
            flat.update(_flat(item, f"{path}[{index}]"))
        return flat
    # An empty list or a null says "nothing here", as an absent path does.
    return {} if value is None or value == [] else {path: value}


def why(data: Mapping[str, Any]) -> str:
    """What an event says about why it happened, if anything."""
    for name in WHY_FIELDS:
        value = data.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def gather(
    conn: psycopg.Connection[Any],
    contract_id: str,
    trusted: Sequence[Ed25519PublicKey],
    kept: Sequence[KeptCheckpoint] = (),
    *,
    now: datetime | None = None,
) -> Pack:
    """Everything the pack shows for this contract, read in one snapshot of the read models."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SET LOCAL search_path TO {SCHEMA_NAME}, public")
        found = _table(cur, "contracts") and _one(
            cur, "SELECT * FROM contracts WHERE contract_id = %s", contract_id
        )
        if not found:
            raise UnknownContract(f"no contract {contract_id} in the read models")
        contract = Contract(
            contract_id=contract_id,
            title=found["title"],
            client_organisation=found["client_organisation"],
            provider_organisation=found["provider_organisation"],
            starts_on=str(found["starts_on"]),
            opened_by=found["opened_by"],
            opened_at=found["created_at"],
        )
        participants = _participants(cur, contract_id)
        labels = _labels(cur, contract_id)
        everything = _timeline(cur, contract_id)
        pack = Pack(
            contract=contract,
            generated_at=now or datetime.now(UTC),
            participants=participants,
            timeline=[h for h in everything if h.service in PEOPLES_SERVICES],
            system_events=[h for h in everything if h.service not in PEOPLES_SERVICES],
            expectations=_expectations(cur, contract_id),
            baselines=_baselines(cur, contract_id),
            prioritizations=_prioritizations(cur, contract_id),
            verification=verify(conn, contract_id, trusted, kept),
            names={p.person_id: p.name for p in participants},
            labels=labels,
        )
    conn.rollback()
    return pack


def verify(
    conn: psycopg.Connection[Any],
    contract_id: str,
    trusted: Sequence[Ed25519PublicKey],
    kept: Sequence[KeptCheckpoint] = (),
) -> Verification:
    """`accord audit verify --contract` as data: each service's findings for the contract's
    streams, with the checkpoints they were checked against (the kept file's, the newest
    stored)."""
    checks = []
    for service in AUDITED:
        report = store.audit(conn, service, trusted, against=kept, contract_id=contract_id)
        if not report.events:
            continue
        stored = store.latest(conn, service)
        given = [k for k in kept if k.checkpoint.service == service]
        against = [CheckedAgainst("the kept checkpoint file", k) for k in given]
        if stored is not None and stored not in given:
            against.append(CheckedAgainst(f"the newest stored in {service}", stored))
        checks.append(
            ServiceCheck(
                service=service,
                events=report.events,
                unchained=report.unchained,
                checkpoints=against,
                findings=[f.line() for f in report.findings],
            )
        )
    return Verification(checks)


def _table(cur: psycopg.Cursor[Row], name: str) -> bool:
    """Whether the read model has this table (one built before it was added has not)."""
    return _one(cur, "SELECT to_regclass(%s) IS NOT NULL AS found", name)["found"] is True


def _one(cur: psycopg.Cursor[Row], sql: str, *params: Any) -> Row:
    cur.execute(sql, params)
    return cur.fetchone() or {}


def _all(cur: psycopg.Cursor[Row], sql: str, *params: Any) -> list[Row]:
    cur.execute(sql, params)
    return cur.fetchall()


def _participants(cur: psycopg.Cursor[Row], contract_id: str) -> list[Participant]:
    rows = _all(
        cur,
        "SELECT * FROM participants WHERE contract_id = %s ORDER BY created_at, person_id",
        contract_id,
    )
    return [
        Participant(
            r["person_id"],
            r["name"],
            r["side"],
            r["role"],
            r["active"],
            r["added_by"],
            r["created_at"],
        )
        for r in rows
    ]


def _labels(cur: psycopg.Cursor[Row], contract_id: str) -> dict[str, str]:
    """A readable name for every item of the contract an event can be about."""
    named = [
        ("SELECT contract_id AS id, title AS label FROM contracts", "contracts"),
        ("SELECT expectation_id AS id, text AS label FROM expectations", "expectations"),
        ("SELECT obligation_id AS id, what AS label FROM obligations", "obligations"),
        ("SELECT risk_id AS id, title AS label FROM risks", "risks"),
        ("SELECT question_id AS id, text AS label FROM questions", "questions"),
        ("SELECT lesson_id AS id, lesson AS label FROM lessons", "lessons"),
        ("SELECT baseline_id AS id, title AS label FROM baselines", "baselines"),
        (
            "SELECT session_id AS id, 'prioritization (' || method || ')' AS label"
            " FROM prioritizations",
            "prioritizations",
        ),
    ]
    labels: dict[str, str] = {}
    for select, table in named:
        if _table(cur, table):
            for row in _all(cur, f"{select} WHERE contract_id = %s", contract_id):
                labels[row["id"]] = row["label"]
    return labels


def _timeline(cur: psycopg.Cursor[Row], contract_id: str) -> list[Happening]:
    rows = _all(
        cur,
        "SELECT occurred_at, source, event_type, subject, actor_id, actor_role, data"
        " FROM audit_log WHERE contract_id = %s ORDER BY occurred_at, position",
        contract_id,
    )
    return [
        Happening(
            occurred_at=r["occurred_at"],
            service=r["source"].rsplit("/", 1)[-1],
            event_type=_event_name(r["event_type"]),
            subject=r["subject"],
            actor_id=r["actor_id"],
            actor_role=r["actor_role"],
            why=why(r["data"] if isinstance(r["data"], dict) else {}),
        )
        for r in rows
    ]


def _event_name(ce_type: str) -> str:
    """`accord.elicitation.ExpectationRefined.v1` -> `ExpectationRefined`."""
    parts = ce_type.split(".")
    return parts[-2] if len(parts) >= 3 else ce_type


def _expectations(cur: psycopg.Cursor[Row], contract_id: str) -> list[ExpectationHistory]:
    current = _all(
        cur,
        "SELECT expectation_id, text, status, corporate_priority FROM expectations"
        " WHERE contract_id = %s ORDER BY corporate_priority NULLS LAST, created_at,"
        " expectation_id",
        contract_id,
    )
    versions: dict[str, list[Row]] = {}
    for row in _all(
        cur,
        "SELECT * FROM expectation_versions WHERE contract_id = %s ORDER BY expectation_id,"
        " version",
        contract_id,
    ):
        versions.setdefault(row["expectation_id"], []).append(row)
    histories = []
    for e in current:
        made: list[Version] = []
        before: Mapping[str, Any] = {}
        for v in versions.get(e["expectation_id"], []):
            made.append(
                Version(
                    version=v["version"],
                    revision=v["revision"],
                    event_type=v["event_type"],
                    changed_at=v["changed_at"],
                    changed_by=v["changed_by"],
                    actor_id=v["actor_id"],
                    actor_role=v["actor_role"],
                    reason=v["reason"],
                    changes=changes(before, v["state"]),
                )
            )
            before = v["state"]
        histories.append(
            ExpectationHistory(
                e["expectation_id"], e["text"], e["status"], e["corporate_priority"], made
            )
        )
    return histories


def _baselines(cur: psycopg.Cursor[Row], contract_id: str) -> list[Baseline]:
    if not _table(cur, "baselines"):
        return []
    signatures: dict[str, list[Signature]] = {}
    for s in _all(
        cur,
        "SELECT * FROM baseline_signatures WHERE contract_id = %s ORDER BY signed_at, signer",
        contract_id,
    ):
        signatures.setdefault(s["baseline_id"], []).append(
            Signature(
                s["signer"],
                s["printed_name"],
                s["role"],
                s["meaning"],
                s["signed_at"],
                s["authenticated_at"],
                s["content_hash"],
            )
        )
    made = []
    for b in _all(
        cur,
        "SELECT * FROM baselines WHERE contract_id = %s ORDER BY proposed_at, baseline_id",
        contract_id,
    ):
        content = b["content"] if isinstance(b["content"], dict) else json.loads(b["content"])
        made.append(
            Baseline(
                baseline_id=b["baseline_id"],
                title=b["title"],
                proposed_by=b["proposed_by"],
                proposed_at=b["proposed_at"],
                required_roles=list(b["required_roles"]),
                complete=b["complete"],
                content_hash=b["content_hash"],
                recomputed_hash=_recomputed(content),
                frozen={
                    kind: len(content.get(kind) or [])
                    for kind in ("participants", "expectations", "obligations", "risks")
                },
                ranked=content.get("ranking") is not None,
                signatures=signatures.get(b["baseline_id"], []),
                revoked_by=b["revoked_by"],
                revocation_reason=b["revocation_reason"],
                revoked_at=b["revoked_at"],
            )
        )
    return made


def _recomputed(content: Any) -> str | None:
    try:
        return content_hash(content)
    except ValidationError:
        return None


def _prioritizations(cur: psycopg.Cursor[Row], contract_id: str) -> list[Prioritization]:
    ballots: dict[str, list[Row]] = {}
    for row in _all(
        cur,
        "SELECT * FROM ballots WHERE contract_id = %s ORDER BY created_at, voter",
        contract_id,
    ):
        ballots.setdefault(row["session_id"], []).append(row)
    rankings = {
        r["session_id"]: r
        for r in _all(cur, "SELECT * FROM rankings WHERE contract_id = %s", contract_id)
    }
    made = []
    for p in _all(
        cur,
        "SELECT * FROM prioritizations WHERE contract_id = %s ORDER BY created_at, session_id",
        contract_id,
    ):
        published = rankings.get(p["session_id"])
        agreement: Mapping[str, Any] = published["agreement"] if published else {}
        distances: Mapping[str, float] = agreement.get("distances") or {}
        made.append(
            Prioritization(
                session_id=p["session_id"],
                method=p["method"],
                status=p["status"],
                opened_by=p["opened_by"],
                opened_at=p["created_at"],
                closed_by=p["closed_by"],
                closed_at=p["closed_at"],
                voters=list(p["voters"]),
                ballots=[
                    Ballot(
                        voter=b["voter"],
                        cast_at=b["created_at"],
                        ranking=list(b["ranking"]) if b["ranking"] is not None else None,
                        dots=b["dots"],
                        distance=distances.get(b["voter"]),
                    )
                    for b in ballots.get(p["session_id"], [])
                ],
                ranking=list(published["ranking"]) if published else None,
                concordance=published["concordance"] if published else None,
                turnout=(
                    (published["turnout_voted"], published["turnout_eligible"])
                    if published
                    else None
                ),
                furthest=list(agreement.get("furthest") or []),
                most_contested=list(agreement.get("most_contested") or []),
                published_at=published["created_at"] if published else None,
            )
        )
    return made
