"""`accord audit pack` as a user types it, on the demo loaded into a real `accord dev`, opened
offline in headless Chromium: what the page shows, that it fetches nothing, that script a
participant typed stays text, and that a tampered store is shown as tampered."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import psycopg

from tests.e2e.accord_process import accord_env, accord_running, ask
from tests.e2e.browser import Dom, open_page

# What a decision maker types in the hope of running script in the auditor's browser, or of
# making it call out (a request the page made would be listed).
TYPED = (
    '<script>document.title="owned"</script><img src="http://127.0.0.1:9/typed.png">'
    "</style><b onmouseover=alert(1)>Tills & queues</b>"
)
PROPOSE = """mutation($input: ProposeExpectationInput!) { proposeExpectation(input: $input) {
  __typename ... on ExpectationChanged { created } ... on Refusal { code message } } }"""


def accord(workdir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m accord ...` where `accord dev` runs, with no database named."""
    return subprocess.run(
        [sys.executable, "-m", "accord", *args],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_the_demo_contracts_pack_opens_offline_and_shows_its_whole_evidence(
    tmp_path: Path,
) -> None:
    # No checkpoint on a schedule: the one the auditor keeps is the newest stored.
    env = accord_env(tmp_path / "data", ACCORD_AUDIT_CHECKPOINT_MINUTES="0")
    with accord_running(tmp_path, env) as running:
        loaded = accord(tmp_path, env, "demo", "--url", running.url.removesuffix("/graphql"))
        assert loaded.returncode == 0, loaded.stderr
        demo = json.loads(loaded.stdout.strip().splitlines()[-1])
        contract = demo["contract_id"]
        typed = ask(running.url, "cfo", PROPOSE, input={
            "contractId": contract, "text": TYPED, "businessArea": "finance",
            "whyItMatters": TYPED,
        })["data"]["proposeExpectation"]  # fmt: skip
        assert typed["__typename"] == "ExpectationChanged", typed

        kept = accord(tmp_path, env, "audit", "checkpoint", "-o", "kept.json")
        assert kept.returncode == 0, kept.stderr
        verified = accord(tmp_path, env, "audit", "verify", "--contract", contract)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        packed = accord(tmp_path, env, "audit", "pack", contract, "-o", "pack.html")
        assert packed.returncode == 0, packed.stdout + packed.stderr
        assert "wrote pack.html: verified" in packed.stdout

        unknown = accord(tmp_path, env, "audit", "pack", str(uuid4()), "-o", "none.html")
        assert unknown.returncode == 1 and unknown.stderr.startswith("UNKNOWN_CONTRACT: ")
        not_an_id = accord(tmp_path, env, "audit", "pack", "nope", "-o", "none.html")
        assert not_an_id.returncode == 1 and not_an_id.stderr.startswith("ID_INVALID: ")
        assert not (tmp_path / "none.html").exists()

        # An event removed from the middle of an expectation's stream, behind Accord's back.
        first = demo["ranking"][0]
        with psycopg.connect(running.database, autocommit=True) as sql:
            sql.execute(
                "DELETE FROM elicitation.elicitation_events"
                " WHERE originator_id = %s AND originator_version = 1",
                (first,),
            )
        tampered = accord(
            tmp_path,
            env,
            "audit",
            "pack",
            contract,
            "-o",
            "tampered.html",
            "--against",
            "kept.json",
        )

    opened = open_page(tmp_path / "pack.html")
    assert opened.requests == [(tmp_path / "pack.html").resolve().as_uri()], "nothing fetched"
    page = Dom.of(opened.html)
    text = page.text
    assert page.title == "Evidence pack: Managed IT operations 2027-2029"
    assert "Verified: every chain and checkpoint holds for this contract's events" in text
    # The checkpoint verify checked against, named the same way in the pack.
    for service, covers in re.findall(
        r"(\w+): \d+ events; checked against (\d+ events to position \d+)", verified.stdout
    ):
        assert re.search(rf"the newest stored in {service} {covers}", text), (service, covers)
    # Who, when, why and in which role, for each change; what changed from one version to the next.
    assert re.search(
        r"v2 \(revision 2\) \S+ \S+ UTC ExpectationRefined Ann Marsh \(am\) provider_account_manager"
        r" made specific and measurable in the meeting",
        text,
    )
    assert re.search(r"terms\.target \(none\) 99\.8", text)
    assert re.search(r"RecoveryPlanAgreed .* target revised in the recovery plan", text)
    # The baseline and its two signatures, bound to its content.
    assert "Agreed scope after the first vote (complete)" in text
    assert "recomputed from the frozen content: matches" in text
    assert re.search(r"Eve Carter ceo client_sponsor approved .* this content", text)
    assert re.search(r"Ann Marsh am provider_account_manager responsible .* this content", text)
    # The vote: each ballot with its distance, and how much the group agreed.
    assert "Vote by schulze, published" in text and "concordance 0." in text
    assert "turnout 5 of 5" in text
    for voter in ("Chris Fagan (cfo)", "Ines Ortiz (cio)", "Omar Cole (coo)", "Hana Roy (chro)"):
        assert re.search(rf"{re.escape(voter)} \S+ \S+ UTC 0\.\d{{3}} ", text), voter
    # The timeline, every event of people, in order.
    assert re.search(
        r"ContractOpened Managed IT operations 2027-2029 \(\w+\) Ann Marsh \(am\)", text
    )
    assert text.index("ContractOpened") < text.index("BaselineSigned")
    # What the decision maker typed is shown as they typed it, and did nothing.
    assert text.count(TYPED) >= 3
    assert not page.named("script") and not page.named("img")
    assert not [a for _, attrs in page.tags for a in attrs if a.startswith("on")]

    assert tampered.returncode == 1, tampered.stdout
    assert "TAMPERED" in tampered.stderr
    shown = Dom.of(open_page(tmp_path / "tampered.html").html).text
    assert "TAMPERED:" in shown and "the kept checkpoint file" in shown
    assert re.search(rf"REMOVED at position \d+ stream {first} v2", shown), shown[:2000]
