"""`accord audit`: verify every service's log, sign and keep a checkpoint, prove an event,
write a contract's evidence pack."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import psycopg
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ValidationError

from accord.database import database
from accord.infra.pgdata import DataUnavailable
from shared.audit import store
from shared.audit.checkpoint import CheckpointFile, KeptCheckpoint
from shared.audit.keys import NoSigningKey, published, signing_key
from shared.audit.proof import EventNotCovered, InclusionProof, problem, prove
from shared.settings import Settings, get_settings

app = typer.Typer(help="Tamper evidence: verify the stored events, keep checkpoints, prove.")

# The services whose stores hold events, each in its own schema.
AUDITED = ("elicitation", "ranking", "notifications")

AgainstOption = Annotated[
    Path | None,
    typer.Option(
        "--against",
        help="A checkpoint file kept earlier (accord audit checkpoint): its key is trusted.",
        exists=True,
        dir_okay=False,
    ),
]


def _trusted(settings: Settings, kept: list[KeptCheckpoint]) -> list[Ed25519PublicKey]:
    """The configured key (or the data folder's development key) and the kept file's keys."""
    keys = [k.checkpoint.public() for k in kept]
    with contextlib.suppress(NoSigningKey):
        keys.append(signing_key(settings, generate=False).public_key())
    return keys


def _read_kept(path: Path | None) -> list[KeptCheckpoint]:
    if path is None:
        return []
    return _parsed(CheckpointFile, path, "--against", "accord audit checkpoint").checkpoints


Kept = TypeVar("Kept", bound=BaseModel)


def _parsed(model: type[Kept], path: Path, option: str, made_by: str) -> Kept:
    """A file an auditor kept, read as what `made_by` writes; anything else is a usage error
    naming the option (the file's first problem), never a traceback."""
    try:
        return model.model_validate_json(path.read_bytes())
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        said = f"{first['msg']}" + (f" at {where}" if where else "")
        message = f"{path} is not a file `{made_by}` writes: {said}"
        raise typer.BadParameter(message, param_hint=f"'{option}'") from None


@app.command()
def verify(
    contract: Annotated[
        str, typer.Option("--contract", help="Report only this contract's streams.")
    ] = "",
    against: AgainstOption = None,
    proof: Annotated[
        Path | None,
        typer.Option("--proof", help="Check an inclusion proof (accord audit prove).", exists=True),
    ] = None,
) -> None:
    """Recompute every chain and checkpoint; name the first event altered, removed, reordered
    or inserted in each service. Exits 1 on any finding."""
    settings = get_settings()
    kept = _read_kept(against)
    proved = proof and _parsed(InclusionProof, proof, "--proof", "accord audit prove")
    trusted = _trusted(settings, kept)
    found = 0
    with _connected(settings) as conn:
        if proved is not None:
            found += _check_proof(conn, proved, trusted)
        for service in AUDITED:
            report = store.audit(conn, service, trusted, against=kept, contract_id=contract)
            if not report.events:
                continue
            chained = (
                f"; unchained before position {report.chained_from} ({report.unchained} events)"
                if report.unchained and report.chained_from is not None
                else ("; no event is chained" if report.chained_from is None else "")
            )
            checked = "; ".join(report.checkpoints) or "no checkpoint"
            typer.echo(f"{service}: {report.events} events{chained}; checked against {checked}")
            first = report.first
            if first is not None:
                typer.echo(f"  first: {first.line()}")
            for finding in report.findings:
                typer.echo(f"  {finding.line()}")
            found += len(report.findings)
    if found:
        typer.echo(f"TAMPERED: {found} finding(s)", err=True)
        raise typer.Exit(1)
    typer.echo("verified: every chain and checkpoint holds")


def _check_proof(conn: Any, proof: InclusionProof, trusted: list[Ed25519PublicKey]) -> int:
    wrong = problem(proof, trusted)
    if wrong is None:
        current = [
            e
            for e in store.entries(conn, proof.service)
            if e.originator_id == proof.originator_id and e.version == proof.version
        ]
        if not current or current[0].computed_hash.hex() != proof.event_hash:
            wrong = "the stored event no longer has the hash the proof covers"
    if wrong:
        typer.echo(f"proof of {proof.event_id}: {wrong}")
        return 1
    typer.echo(f"proof of {proof.event_id}: included in {proof.service}'s checkpoint")
    return 0


@app.command()
def checkpoint(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write the checkpoint file.")
    ] = Path("accord-checkpoint.json"),
) -> None:
    """Sign each service's log as it stands now, keep it beside the log, and write it to a file
    for the auditor to keep."""
    settings = get_settings()
    key = signing_key(settings)
    kept: list[KeptCheckpoint] = []
    with _connected(settings) as conn:
        for service in AUDITED:
            signed = store.checkpoint(conn, service, key)
            if signed is not None:
                kept.append(signed)
                c = signed.checkpoint
                typer.echo(
                    f"{service}: {c.size} events to position {c.last_position}, root {c.root}"
                )
    output.write_text(CheckpointFile(checkpoints=kept).model_dump_json(indent=2) + "\n")
    typer.echo(f"wrote {output}")


@app.command()
def key() -> None:
    """Print the public key that signs the checkpoints (as GET /audit/public-key answers it),
    for an auditor or a consumer to check checkpoints without the database."""
    try:
        signer = signing_key(get_settings(), generate=False)
    except NoSigningKey as missing:
        typer.echo(f"{missing.code}: {missing}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(published(signer.public_key()), indent=2))


@app.command(name="prove")
def prove_event(
    event_id: Annotated[str, typer.Argument(help="The event's id (its ce_id).")],
    against: AgainstOption = None,
) -> None:
    """Print the inclusion proof of one event against the kept checkpoint (or the newest stored)."""
    settings = get_settings()
    kept = _read_kept(against)
    with _connected(settings) as conn:
        for service in AUDITED:
            named = [k for k in kept if k.checkpoint.service == service]
            checkpoint_of = named[0] if named else store.latest(conn, service)
            if checkpoint_of is None:
                continue
            try:
                proof = prove(store.entries(conn, service), checkpoint_of.checkpoint, event_id)
            except EventNotCovered:
                continue
            typer.echo(json.dumps(proof.model_dump(mode="json"), indent=2))
            return
    typer.echo(f"{EventNotCovered.code}: no checkpoint covers event {event_id}", err=True)
    raise typer.Exit(1)


@app.command()
def pack(
    contract_id: Annotated[str, typer.Argument(help="The contract's id.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write the HTML page.")
    ] = Path("evidence-pack.html"),
    against: AgainstOption = None,
) -> None:
    """Write one self-contained HTML page of a contract's evidence: its timeline, each
    expectation's versions and what changed, baselines and signatures, prioritizations with
    their ballots and agreement, and what verifying its events found. Exits 1 on any finding
    (the page is written all the same: it shows them)."""
    from accord import evidence_html, evidence_pack

    settings = get_settings()
    _check_writable(output)
    kept = _read_kept(against)
    try:
        contract = evidence_pack.contract_id_of(contract_id)
        with _connected(settings) as conn:
            gathered = evidence_pack.gather(conn, contract, _trusted(settings, kept), kept)
    except (evidence_pack.InvalidContractId, evidence_pack.UnknownContract) as refused:
        typer.echo(f"{refused.code}: {refused}", err=True)
        raise typer.Exit(1) from None
    output.write_text(evidence_html.render(gathered), encoding="utf-8")
    found = gathered.verification.findings
    typer.echo(f"wrote {output}: {'verified' if not found else f'{found} finding(s)'}")
    if found:
        typer.echo(f"TAMPERED: {found} finding(s)", err=True)
        raise typer.Exit(1)


def _check_writable(output: Path) -> None:
    """The page can be written there, or a usage error says why, before anything is gathered."""
    folder = output.absolute().parent
    if output.is_dir():
        why = "it is a folder: name a file in it"
    elif not folder.is_dir():
        why = f"its folder {folder} does not exist"
    elif not os.access(output if output.exists() else folder, os.W_OK):
        why = "no permission to write it"
    else:
        return
    raise typer.BadParameter(f"{output} cannot be written: {why}", param_hint="'--output'")


@contextlib.contextmanager
def _connected(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    """The database as `accord replay` finds it (the running dev's server, or one started and
    stopped here), connected."""
    try:
        with (
            database(settings, share=True) as ready,
            psycopg.connect(ready.database_url) as conn,
        ):
            yield conn
    except DataUnavailable as busy:
        typer.echo(f"{busy.code}: {busy}", err=True)
        raise typer.Exit(1) from None
