"""Recompute a service's chain and tree, and say where the stored log departs from what was
chained and signed: the first event altered, removed, reordered or inserted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.audit import merkle
from shared.audit.chain import GENESIS, event_hash
from shared.audit.checkpoint import KeptCheckpoint, heads_of
from shared.audit.log import Entry

Kind = Literal["altered", "removed", "reordered", "inserted", "unchained", "forged"]
# Mismatched hashes looked up among every position of the log, to tell a move from an edit;
# past this many, the rest are reported as altered without the search.
_SEARCHED = 20


@dataclass(frozen=True)
class Finding:
    """One place where the log is not what was chained or signed."""

    service: str
    kind: Kind
    detail: str
    position: int | None = None
    originator_id: UUID | None = None
    version: int | None = None

    def line(self) -> str:
        where = f"position {self.position}" if self.position is not None else "the log's end"
        stream = f" stream {self.originator_id} v{self.version}" if self.originator_id else ""
        return f"{self.service}: {self.kind.upper()} at {where}{stream}: {self.detail}"


@dataclass
class Report:
    """What verifying one service's log found."""

    service: str
    events: int = 0
    # Events stored before chaining began (the chain starts at `chained_from`).
    unchained: int = 0
    chained_from: int | None = None
    checkpoints: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def first(self) -> Finding | None:
        placed = [f for f in self.findings if f.position is not None]
        if placed:
            return min(placed, key=lambda f: f.position or 0)
        return self.findings[0] if self.findings else None


def check_log(
    service: str,
    entries: Sequence[Entry],
    checkpoints: Iterable[KeptCheckpoint] = (),
    *,
    trusted: Sequence[Ed25519PublicKey] = (),
    contract_id: str = "",
) -> Report:
    """Check the chain of every stream, then the log against each checkpoint given.
    `contract_id` narrows the per-event findings to that contract's streams."""
    report = Report(service, events=len(entries))
    _check_chain(report, entries)
    for kept in checkpoints:
        _check_against(report, entries, kept, trusted)
    if contract_id:
        streams = {e.originator_id for e in entries if e.contract_id == contract_id}
        # A stream removed whole has no event left to name its contract: it stays reported.
        others = {e.originator_id for e in entries} - streams
        report.findings = [f for f in report.findings if f.originator_id not in others]
    report.findings.sort(key=lambda f: (f.position is None, f.position or 0))
    return report


def _check_chain(report: Report, entries: Sequence[Entry]) -> None:
    present = {(e.originator_id, e.version) for e in entries}
    positions = [e.position for e in entries]
    newest: dict[UUID, int] = {}
    searched = 0
    for entry in entries:
        stream, version = entry.originator_id, entry.version
        seen = newest.get(stream, 0)
        newest[stream] = max(seen, version)
        gap = False
        if version <= seen:
            report.findings.append(
                _at(report, entry, "reordered", f"comes after version {seen} of its stream")
            )
        elif version > seen + 1:
            missing = range(seen + 1, version)
            gap = True
            if any((stream, m) in present for m in missing):
                report.findings.append(
                    _at(report, entry, "reordered", "comes before an earlier version of its stream")
                )
            else:
                report.findings.append(
                    _at(
                        report,
                        entry,
                        "removed",
                        f"versions {missing.start}..{missing.stop - 1} of its stream are gone",
                    )
                )
        if entry.stored_hash is None:
            if report.chained_from is None:
                report.unchained += 1
            else:
                report.findings.append(
                    _at(report, entry, "unchained", "stored without a hash after the chain began")
                )
            continue
        if report.chained_from is None:
            report.chained_from = entry.position
        if entry.stored_hash == entry.computed_hash or gap:
            continue
        moved_from = None
        if searched < _SEARCHED:
            searched += 1
            moved_from = _position_it_was_chained_at(entry, positions)
        if moved_from is not None:
            detail = f"was chained at position {moved_from}: moved in the log"
            report.findings.append(_at(report, entry, "reordered", detail))
        else:
            detail = "its fields or its predecessor's hash are not what was chained"
            report.findings.append(_at(report, entry, "altered", detail))


def _position_it_was_chained_at(entry: Entry, positions: Sequence[int]) -> int | None:
    """The position whose hash, with these fields, is the stored one: a row moved there."""
    for position in positions:
        if position == entry.position:
            continue
        if _rehash(entry, position) == entry.stored_hash:
            return position
    return None


def _rehash(entry: Entry, position: int) -> bytes:
    return event_hash(
        position,
        entry.originator_id,
        entry.version,
        entry.topic,
        entry.state,
        entry.previous_hash or GENESIS,
    )


def _check_against(
    report: Report,
    entries: Sequence[Entry],
    kept: KeptCheckpoint,
    trusted: Sequence[Ed25519PublicKey],
) -> None:
    checkpoint = kept.checkpoint
    name = f"{checkpoint.size} events to position {checkpoint.last_position}"
    report.checkpoints.append(f"{name}, signed {checkpoint.issued_at.isoformat()}")
    if not checkpoint.signed_by(trusted) or not kept.heads_match():
        report.findings.append(
            Finding(
                report.service,
                "forged",
                f"the checkpoint of {name} is not signed by a trusted key over its heads",
            )
        )
        return
    covered = [e for e in entries if e.position <= checkpoint.last_position]
    if (
        len(covered) == checkpoint.size
        and merkle.root([e.leaf for e in covered]).hex() == checkpoint.root
    ):
        return
    before = len(report.findings)
    now = heads_of(covered)
    newest = {(e.originator_id, e.version): e for e in covered}
    for stream, (version, digest) in kept.heads.items():
        current = now.get(stream)
        stream_id = UUID(stream)
        if current is None or current[0] < version:
            first_gone = (current[0] if current else 0) + 1
            report.findings.append(
                Finding(
                    report.service,
                    "removed",
                    f"versions {first_gone}..{version} of the stream, the newest when"
                    f" the checkpoint of {name} was signed, are gone",
                    originator_id=stream_id,
                    version=first_gone,
                )
            )
        elif current[0] > version:
            extra = newest[(stream_id, version + 1)]
            report.findings.append(
                _at(report, extra, "inserted", f"not in the checkpoint of {name}")
            )
        elif current[1] != digest:
            entry = newest[(stream_id, version)]
            report.findings.append(
                _at(report, entry, "altered", f"differs from the checkpoint of {name}")
            )
    for stream in now.keys() - kept.heads.keys():
        first = min((e for e in covered if str(e.originator_id) == stream), key=lambda e: e.version)
        report.findings.append(
            _at(report, first, "inserted", f"a stream the checkpoint of {name} never saw")
        )
    if len(report.findings) == before and not _already_explained(report, checkpoint.last_position):
        report.findings.append(
            Finding(
                report.service,
                "altered",
                f"the log up to position {checkpoint.last_position} no longer has the root of the"
                f" checkpoint of {name}",
            )
        )


def _already_explained(report: Report, last_position: int) -> bool:
    """Whether the chain check already named an event the checkpoint covers."""
    return any(f.position is not None and f.position <= last_position for f in report.findings)


def _at(report: Report, entry: Entry, kind: Kind, detail: str) -> Finding:
    return Finding(report.service, kind, detail, entry.position, entry.originator_id, entry.version)
