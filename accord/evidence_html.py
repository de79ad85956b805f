"""An evidence pack as one self-contained HTML page: inline CSS, no script, nothing fetched.

The page is built as an element tree and serialized by the standard library, so every value
(a participant's words included) is text or an attribute value, escaped by construction: a pack
cannot run script someone typed. A Content-Security-Policy forbids script and any network
fetch as well, in case a browser is ever shown markup that slipped through.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from accord.evidence_pack import (
    Baseline,
    Change,
    ExpectationHistory,
    Happening,
    Pack,
    Prioritization,
    ServiceCheck,
    Verification,
)

# No script, no fetch: styles inline, images (none today) only as data: URLs.
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"

STYLE = """
:root { --ink: #1d2330; --muted: #5d6678; --line: #d9dde5; --ok: #17663a; --okbg: #e4f4ea;
  --bad: #9b1c1c; --badbg: #fbe6e6; --band: #f4f6f9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: var(--ink); margin: 0 auto; max-width: 1180px; padding: 24px 32px 64px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px;
  border-bottom: 2px solid var(--ink); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.meta, .muted { color: var(--muted); }
code, .id { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px;
  overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px;
  border-bottom: 1px solid var(--line); }
th { background: var(--band); font-weight: 600; white-space: nowrap; }
nav ol { columns: 3; margin: 8px 0; }
.verdict { padding: 12px 16px; border-radius: 6px; font-size: 16px; font-weight: 600;
  margin: 16px 0; }
.verdict.ok { background: var(--okbg); color: var(--ok); border: 1px solid var(--ok); }
.verdict.bad { background: var(--badbg); color: var(--bad); border: 1px solid var(--bad); }
.finding { color: var(--bad); font-family: ui-monospace, "DejaVu Sans Mono", monospace;
  font-size: 12px; }
.expectation { border: 1px solid var(--line); border-radius: 6px; padding: 4px 14px 8px;
  margin: 12px 0; }
table.diff td.before { color: var(--bad); text-decoration: line-through; }
table.diff td.after { color: var(--ok); }
table.diff { margin: 0 0 4px; font-size: 12px; table-layout: fixed; }
table.diff th { background: none; color: var(--muted); font-weight: normal; }
table.diff td:first-child, table.diff th:first-child { width: 30%; }
table.diff td.none { color: var(--muted); }
tr.version > td { background: var(--band); }
.badge { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12px;
  border: 1px solid var(--line); }
.badge.ok { color: var(--ok); border-color: var(--ok); }
.badge.bad { color: var(--bad); border-color: var(--bad); }
details summary { cursor: pointer; color: var(--muted); }
@media print { nav { display: none; } .expectation { break-inside: avoid; } }
"""

SECTIONS = (
    ("verification", "Verification"),
    ("participants", "Participants"),
    ("baselines", "Baselines and signatures"),
    ("prioritizations", "Prioritizations"),
    ("expectations", "Expectations, version by version"),
    ("timeline", "Timeline"),
)


def render(pack: Pack) -> str:
    """The whole page, as text."""
    html = ET.Element("html", lang="en")
    head = _add(html, "head")
    _add(head, "meta", charset="utf-8")
    _add(head, "meta", attrs={"http-equiv": "Content-Security-Policy", "content": POLICY})
    _add(head, "meta", name="viewport", content="width=device-width, initial-scale=1")
    _add(head, "title", f"Evidence pack: {pack.contract.title}")
    _add(head, "style", STYLE)
    body = _add(html, "body")
    _header(body, pack)
    _verification(_section(body, "verification"), pack.verification)
    _participants(_section(body, "participants"), pack)
    _baselines(_section(body, "baselines"), pack)
    _prioritizations(_section(body, "prioritizations"), pack)
    _expectations(_section(body, "expectations"), pack)
    _timeline(_section(body, "timeline"), pack)
    return "<!DOCTYPE html>\n" + ET.tostring(html, encoding="unicode", method="html") + "\n"


def _add(
    parent: ET.Element,
    tag: str,
    text: object = None,
    *,
    cls: str = "",
    attrs: dict[str, str] | None = None,
    **kw: str,
) -> ET.Element:
    """A child element; its text and attributes are escaped when the tree is written."""
    element = ET.SubElement(parent, tag, {**(attrs or {}), **kw, **({"class": cls} if cls else {})})
    if text is not None:
        element.text = str(text)
    return element


def _section(body: ET.Element, anchor: str) -> ET.Element:
    section = _add(body, "section", id=anchor)
    _add(section, "h2", dict(SECTIONS)[anchor])
    return section


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _table(
    parent: ET.Element, headings: Sequence[str], rows: Iterable[Sequence[object]], cls: str = ""
) -> ET.Element:
    table = _add(parent, "table", cls=cls)
    heading = _add(_add(table, "thead"), "tr")
    for name in headings:
        _add(heading, "th", name)
    body = _add(table, "tbody")
    for row in rows:
        tr = _add(body, "tr")
        for cell in row:
            _add(tr, "td", "" if cell is None else cell)
    return table


def _person(pack: Pack, person_id: str | None) -> str:
    if not person_id:
        return ""
    name = pack.names.get(person_id)
    return f"{name} ({person_id})" if name else person_id


def _item(pack: Pack, item_id: str) -> str:
    label = pack.labels.get(item_id)
    return f"{label} ({item_id[:8]})" if label else item_id


def _header(body: ET.Element, pack: Pack) -> None:
    c = pack.contract
    header = _add(body, "header")
    _add(header, "h1", f"Evidence pack: {c.title}")
    _add(
        header,
        "p",
        f"{c.client_organisation} (client) and {c.provider_organisation} (provider);"
        f" starts {c.starts_on}; opened by {_person(pack, c.opened_by)} on {_when(c.opened_at)}.",
        cls="meta",
    )
    meta = _add(header, "p", "Contract ", cls="meta")
    _add(meta, "code", c.contract_id).tail = f"; pack generated {_when(pack.generated_at)}."
    v = pack.verification
    verdict = (
        "Verified: every chain and checkpoint holds for this contract's events"
        if v.verified
        else f"TAMPERED: {v.findings} finding(s) in the stored events"
    )
    _add(header, "div", verdict, cls=f"verdict {'ok' if v.verified else 'bad'}")
    nav = _add(_add(header, "nav"), "ol")
    for anchor, title in SECTIONS:
        _add(_add(nav, "li"), "a", title, href=f"#{anchor}")


def _verification(section: ET.Element, verification: Verification) -> None:
    said = _add(
        section,
        "p",
        "Each service's stored events were recomputed (every event's hash and its stream's"
        " chain) and checked against the signed checkpoints below, as ",
    )
    _add(said, "code", "accord audit verify --contract").tail = " does."
    if not verification.services:
        _add(section, "p", "No service has stored an event.", cls="muted")
    for check in verification.services:
        _service_check(section, check)


def _service_check(section: ET.Element, check: ServiceCheck) -> None:
    status = "verified" if not check.findings else f"{len(check.findings)} finding(s)"
    _add(section, "h3", f"{check.service}: {check.events} events, {status}")
    if check.unchained:
        _add(section, "p", f"{check.unchained} events were stored before chaining began.")
    if not check.checkpoints:
        _add(section, "p", "No checkpoint: only the chains were checked.", cls="muted")
    else:
        rows = [
            (
                a.origin,
                f"{a.checkpoint.checkpoint.size} events to position"
                f" {a.checkpoint.checkpoint.last_position}",
                _when(a.checkpoint.checkpoint.issued_at),
                a.checkpoint.checkpoint.key_id,
                a.checkpoint.checkpoint.root,
            )
            for a in check.checkpoints
        ]
        table = _table(
            section, ("Checked against", "Covers", "Signed", "Key id", "Merkle root"), rows
        )
        for tr in table.iter("tr"):
            cells = list(tr)
            if cells and cells[-1].tag == "td":
                cells[-1].set("class", "id")
                cells[-2].set("class", "id")
    for finding in check.findings:
        _add(section, "div", finding, cls="finding")


def _participants(section: ET.Element, pack: Pack) -> None:
    rows = [
        (
            p.name,
            p.person_id,
            p.side,
            p.role,
            _person(pack, p.added_by),
            _when(p.joined_at),
            "active" if p.active else "left",
        )
        for p in pack.participants
    ]
    _table(section, ("Name", "Person", "Side", "Role", "Added by", "Joined", "Now"), rows)


def _baselines(section: ET.Element, pack: Pack) -> None:
    if not pack.baselines:
        _add(section, "p", "No baselines.", cls="muted")
    for b in pack.baselines:
        _baseline(section, pack, b)


def _baseline(section: ET.Element, pack: Pack, b: Baseline) -> None:
    state = "revoked" if b.revoked_at else ("complete" if b.complete else "awaiting signatures")
    _add(section, "h3", f"{b.title} ({state})")
    frozen = ", ".join(f"{n} {kind if n != 1 else kind[:-1]}" for kind, n in b.frozen.items())
    ranked = "the published ranking" if b.ranked else "no published ranking"
    _add(
        section,
        "p",
        f"Proposed by {_person(pack, b.proposed_by)} on {_when(b.proposed_at)}; freezes"
        f" {frozen} and {ranked}. Required signers: {', '.join(b.required_roles)}.",
    )
    holds = b.recomputed_hash == b.content_hash
    line = _add(section, "p", "Content hash ")
    _add(line, "code", b.content_hash).tail = " "
    _add(
        line,
        "span",
        "recomputed from the frozen content: matches"
        if holds
        else f"recomputed from the frozen content: DIFFERS ({b.recomputed_hash or 'unreadable'})",
        cls=f"badge {'ok' if holds else 'bad'}",
    )
    if b.revoked_at:
        _add(
            section,
            "p",
            f"Revoked by {_person(pack, b.revoked_by)} on {_when(b.revoked_at)}:"
            f" {b.revocation_reason or ''}",
        )
    if not b.signatures:
        _add(section, "p", "No signature yet.", cls="muted")
        return
    rows = [
        (
            s.printed_name,
            s.signer,
            s.role,
            s.meaning,
            _when(s.signed_at),
            _when(s.authenticated_at),
            "this content" if s.content_hash == b.content_hash else f"OTHER: {s.content_hash}",
        )
        for s in b.signatures
    ]
    _table(
        section,
        ("Printed name", "Signer", "Role", "Meaning", "Signed", "Authenticated", "Bound to"),
        rows,
    )


def _prioritizations(section: ET.Element, pack: Pack) -> None:
    if not pack.prioritizations:
        _add(section, "p", "No prioritization.", cls="muted")
    for p in pack.prioritizations:
        _prioritization(section, pack, p)


def _prioritization(section: ET.Element, pack: Pack, p: Prioritization) -> None:
    _add(section, "h3", f"Vote by {p.method}, {p.status}")
    closed = (
        f"; closed by {_person(pack, p.closed_by)} on {_when(p.closed_at)}" if p.closed_at else ""
    )
    _add(
        section,
        "p",
        f"Opened by {_person(pack, p.opened_by)} on {_when(p.opened_at)}{closed}."
        f" Voters: {', '.join(_person(pack, v) for v in p.voters)}.",
    )
    if p.ranking is not None:
        agreement = _add(section, "p")
        turnout = f"{p.turnout[0]} of {p.turnout[1]}" if p.turnout else "unknown"
        concordance = f"{p.concordance:.3f}" if p.concordance is not None else "unknown"
        agreement.text = (
            f"Corporate ranking published {_when(p.published_at)}. Agreement: concordance"
            f" {concordance} (Kendall's W, 1 = everyone ranked alike); turnout {turnout};"
            f" furthest from the corporate ranking: "
            f"{', '.join(_person(pack, v) for v in p.furthest) or 'none'}; most contested: "
            f"{'; '.join(_item(pack, e) for e in p.most_contested) or 'none'}."
        )
        _table(
            section,
            ("Corporate priority", "Expectation"),
            [(i, _item(pack, e)) for i, e in enumerate(p.ranking, start=1)],
        )
    if not p.ballots:
        _add(section, "p", "No ballot cast.", cls="muted")
        return
    rows = []
    for b in p.ballots:
        if b.ranking is not None:
            cast = " > ".join(_item(pack, e) for e in b.ranking)
        else:
            cast = "; ".join(f"{_item(pack, e)}: {n} dots" for e, n in (b.dots or {}).items())
        distance = f"{b.distance:.3f}" if b.distance is not None else ""
        rows.append((_person(pack, b.voter), _when(b.cast_at), distance, cast))
    _table(section, ("Voter", "Cast", "Distance (0: the corporate order)", "Ballot"), rows)


def _expectations(section: ET.Element, pack: Pack) -> None:
    if not pack.expectations:
        _add(section, "p", "No expectation.", cls="muted")
    for e in pack.expectations:
        _expectation(section, pack, e)


def _expectation(section: ET.Element, pack: Pack, e: ExpectationHistory) -> None:
    box = _add(section, "div", id=f"expectation-{e.expectation_id}", cls="expectation")
    priority = f"priority {e.corporate_priority}, " if e.corporate_priority else ""
    _add(box, "h3", f"{e.text} ({priority}{e.status})")
    _add(box, "div", e.expectation_id, cls="id muted")
    table = _add(box, "table")
    heading = _add(_add(table, "thead"), "tr")
    for name in ("Version", "When", "What", "Who", "Role", "Why"):
        _add(heading, "th", name)
    body = _add(table, "tbody")
    for v in e.versions:
        tr = _add(body, "tr", cls="version")
        for text in (
            f"v{v.version} (revision {v.revision})",
            _when(v.changed_at),
            v.event_type,
            _person(pack, v.changed_by),
            v.actor_role,
            v.reason,
        ):
            _add(tr, "td", text)
        if v.changes:
            _diff(_add(_add(body, "tr"), "td", colspan="6"), v.changes)


def _diff(cell: ET.Element, changed: Sequence[Change]) -> None:
    """What changed from the version before (from nothing, for the first): path, old, new."""
    table = _add(cell, "table", cls="diff")
    heading = _add(_add(table, "thead"), "tr")
    for name in ("Changed", "Before", "After"):
        _add(heading, "th", name)
    body = _add(table, "tbody")
    for c in changed:
        tr = _add(body, "tr")
        _add(tr, "td", c.path, cls="id")
        _add(tr, "td", _value(c.before), cls="before" if c.before is not None else "none")
        _add(tr, "td", _value(c.after), cls="after" if c.after is not None else "none")


def _timeline(section: ET.Element, pack: Pack) -> None:
    _add(
        section,
        "p",
        f"Every event of the contract, oldest first: {len(pack.timeline)} by people,"
        f" {len(pack.system_events)} notices queued and delivered by the system.",
    )
    _table(
        section,
        ("When", "Service", "What", "About", "Who", "Role", "Why"),
        _happenings(pack, pack.timeline),
    )
    if pack.system_events:
        details = _add(section, "details")
        _add(details, "summary", f"Notifications ({len(pack.system_events)} events)")
        _table(
            details,
            ("When", "Service", "What", "About", "Who", "Role", "Why"),
            _happenings(pack, pack.system_events),
        )


def _happenings(pack: Pack, happenings: Sequence[Happening]) -> list[tuple[str, ...]]:
    return [
        (
            _when(h.occurred_at),
            h.service,
            h.event_type,
            _item(pack, h.subject),
            _person(pack, h.actor_id),
            h.actor_role,
            h.why,
        )
        for h in happenings
    ]
