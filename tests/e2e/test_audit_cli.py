"""`accord audit` as a user types it, on the data folder of a real `accord dev`: a checkpoint
kept, the untouched store verified, an event proved, and a deleted event found."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from shared.event_ids import event_id
from tests.e2e.accord_process import accord_env, accord_running, ask

OPEN = """mutation { openContract(input: {clientOrganisation: "Northwind", title: "Audited",
  providerOrganisation: "Contoso", startsOn: "2027-01-01", name: "Ann Marsh",
  role: PROVIDER_ACCOUNT_MANAGER, email: "am@contoso.example"}) {
  ... on ContractChanged { contract { id } } } }"""


def audit(workdir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`accord audit ...` where `accord dev` runs, with no database named."""
    return subprocess.run(
        [sys.executable, "-m", "accord", "audit", *args],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_an_auditor_keeps_a_checkpoint_proves_an_event_and_finds_one_deleted(
    tmp_path: Path,
) -> None:
    env = accord_env(tmp_path / "data")
    with accord_running(tmp_path, env) as running:
        contracts = [ask(running.url, "am", OPEN)["data"]["openContract"] for _ in range(2)]
        contract = contracts[-1]["contract"]["id"]  # the newest event is of this one
        kept = audit(tmp_path, env, "checkpoint", "-o", "kept.json")
        assert kept.returncode == 0, kept.stderr
        assert "elicitation:" in kept.stdout and (tmp_path / "kept.json").exists()

        untouched = audit(tmp_path, env, "verify", "--against", "kept.json")
        assert untouched.returncode == 0, untouched.stdout + untouched.stderr
        assert "verified" in untouched.stdout

        with psycopg.connect(running.database, autocommit=True) as sql:
            newest = sql.execute(
                "SELECT originator_id, originator_version FROM elicitation.elicitation_events"
                " ORDER BY notification_id DESC LIMIT 1"
            ).fetchone()
            assert newest is not None
            proved = audit(tmp_path, env, "prove", event_id(*newest), "--against", "kept.json")
            assert proved.returncode == 0, proved.stderr
            (tmp_path / "proof.json").write_text(proved.stdout)
            holds = audit(
                tmp_path, env, "verify", "--proof", "proof.json", "--against", "kept.json"
            )
            assert holds.returncode == 0 and "included" in holds.stdout, holds.stdout

            sql.execute(
                "DELETE FROM elicitation.elicitation_events"
                " WHERE originator_id = %s AND originator_version = %s",
                newest,
            )
        tampered = audit(tmp_path, env, "verify", "--contract", contract, "--against", "kept.json")
    assert tampered.returncode == 1, tampered.stdout
    assert f"REMOVED at the log's end stream {newest[0]} v{newest[1]}" in tampered.stdout
    assert "TAMPERED" in tampered.stderr


def test_a_file_that_is_not_a_kept_checkpoint_or_proof_is_a_usage_error(tmp_path: Path) -> None:
    not_json, wrong_shape = tmp_path / "notes.txt", tmp_path / "other.json"
    not_json.write_text("{kept by hand")
    wrong_shape.write_text('{"checkpoints": [{"signed_by": "me"}]}')
    for option, given, made_by, problem in (
        ("--against", not_json, "accord audit checkpoint", "Invalid JSON"),
        ("--against", wrong_shape, "accord audit checkpoint", "Field required at checkpoints.0"),
        ("--proof", not_json, "accord audit prove", "Invalid JSON"),
    ):
        wide = accord_env(COLUMNS="400")  # the message on one line of the error box
        refused = audit(tmp_path, wide, "verify", option, str(given))
        said = " ".join(refused.stderr.replace("│", " ").split())
        assert refused.returncode == 2, refused.stderr
        assert f"Invalid value for '{option}': {given} is not a file `{made_by}` writes" in said
        assert problem in said and "Traceback" not in refused.stderr
        assert not (tmp_path / ".accord").exists()  # refused before any database was started


def test_an_evidence_pack_that_cannot_be_written_is_a_usage_error_before_any_work(
    tmp_path: Path,
) -> None:
    wide = accord_env(COLUMNS="400")
    for output, why in (
        (tmp_path, "it is a folder: name a file in it"),
        (tmp_path / "missing" / "pack.html", f"its folder {tmp_path / 'missing'} does not exist"),
    ):
        refused = audit(
            tmp_path, wide, "pack", "00000000-0000-0000-0000-000000000001", "-o", str(output)
        )
        said = " ".join(refused.stderr.replace("│", " ").split())
        assert refused.returncode == 2, refused.stderr
        assert f"Invalid value for '--output': {output} cannot be written: {why}" in said, said
        assert "Traceback" not in refused.stderr
        assert not (tmp_path / ".accord").exists()  # refused before any database was started
