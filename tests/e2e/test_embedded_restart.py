"""`accord dev` on its default data folder (`.accord` where it runs): stopped by Ctrl-C or by
kill -9, started again, it serves the same data, once; `accord replay` works on that data."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from accord.infra import pgdata
from accord.infra.postgres import POSTGRES_BIN_PATH, SERVICE_USER
from tests.e2e.accord_process import accord_env, accord_running, ask, free_port

# Where `accord dev` keeps its cluster when ACCORD_DATA_DIR is left at its default.
DATADIR = Path(".accord/postgres/pgdata")


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """A fresh folder to run Accord in; no PostgreSQL is left running on it afterwards."""
    yield tmp_path
    for datadir in (tmp_path / DATADIR, tmp_path / DATADIR / DATADIR):
        pgdata.stop_left_behind(datadir, timeout=10)


def test_the_default_folder_keeps_every_write_once_across_ctrl_c_and_kill_9(workdir) -> None:
    env = accord_env()
    with accord_running(workdir, env) as first:
        contract = open_contract(first.url)
        propose(first.url, contract, "Tickets answered within an hour")
    assert (workdir / DATADIR / "PG_VERSION").exists()
    assert not (workdir / DATADIR / DATADIR).exists()

    with accord_running(workdir, env) as second:
        assert expectations(second.url, contract) == ["Tickets answered within an hour"]
        propose(second.url, contract, "Monthly service report by the 5th")
        crashed = postmasters_on(workdir / DATADIR)
        second.crash()
    # Its PostgreSQL was told by the kernel to shut down (a server that outlives its Accord
    # anyway is the next test's).
    assert eventually(lambda: not postmasters_on(workdir / DATADIR)), crashed

    with accord_running(workdir, env) as third:
        assert sorted(expectations(third.url, contract)) == [
            "Monthly service report by the 5th",
            "Tickets answered within an hour",
        ]
        assert versions(third.url, contract) == [1, 1]
        assert contracts(third.url) == [contract]
        serving = postmasters_on(workdir / DATADIR)
        assert len(serving) == 1 and serving != crashed, (crashed, serving)


def test_a_restart_publishes_again_from_where_the_read_models_are_not_the_start(workdir) -> None:
    """Each relay marks its way on the in-process bus (every 4 messages here): started again,
    after Ctrl-C or kill -9, it publishes from its last mark before every read model, and each
    expectation is still there once."""
    env = accord_env(ACCORD_RELAY_MARK_EVERY="4")
    texts = [f"Expectation {n}" for n in range(10)]
    with accord_running(workdir, env) as first:
        contract = open_contract(first.url)
        for text in texts:
            propose(first.url, contract, text)
    assert "publishing again" not in first.output
    again = re.compile(r"relay elicitation-bus: publishing again from event \d+ \(message [1-9]")

    with accord_running(workdir, env) as second:
        assert sorted(expectations(second.url, contract)) == texts
        propose(second.url, contract, "After a restart")
        second.crash()
    assert again.search(second.output), second.output

    with accord_running(workdir, env) as third:
        assert sorted(expectations(third.url, contract)) == sorted([*texts, "After a restart"])
        assert versions(third.url, contract) == [1] * 11
        propose(third.url, contract, "After a crash")
    assert again.search(third.output), third.output


def test_a_postgres_left_running_on_the_data_is_stopped_and_the_data_served(workdir) -> None:
    env = accord_env()
    with accord_running(workdir, env) as first:
        contract = open_contract(first.url)
        propose(first.url, contract, "Invoices without errors")
    left = leave_postgres_running(workdir / DATADIR)

    with accord_running(workdir, env) as second:
        assert expectations(second.url, contract) == ["Invoices without errors"]
        assert left not in postmasters_on(workdir / DATADIR)
        assert len(postmasters_on(workdir / DATADIR)) == 1
    assert f"stopped the PostgreSQL server (pid {left})" in second.output


@pytest.mark.parametrize("holder", ["a process that is gone", "another program of its user"])
def test_a_stale_postmaster_pid_file_does_not_stop_the_next_start(workdir, holder) -> None:
    env = accord_env()
    with accord_running(workdir, env) as first:
        contract = open_contract(first.url)
        propose(first.url, contract, "Laptops replaced within a day")
    user = SERVICE_USER if os.geteuid() == 0 else None
    # After a power cut the file stays; after a reboot its pid may be anyone's.
    other = subprocess.Popen(["sleep", "120"], user=user)
    try:
        if holder == "a process that is gone":
            other.kill()
            other.wait()
        pid_file = workdir / DATADIR / "postmaster.pid"
        pid_file.write_text(f"{other.pid}\n{(workdir / DATADIR).resolve()}\n1700000000\n5432\n\n"
                            "127.0.0.1\n  5432001    0\nready   \n")  # fmt: skip
        if user:
            shutil.chown(pid_file, user)

        with accord_running(workdir, env) as second:
            assert expectations(second.url, contract) == ["Laptops replaced within a day"]
        assert other.poll() is None or holder == "a process that is gone"
    finally:
        other.kill()
        other.wait()


def test_data_an_earlier_version_put_one_level_too_deep_is_moved_where_it_belongs(
    workdir,
) -> None:
    env = accord_env()
    with accord_running(workdir, env) as first:
        contract = open_contract(first.url)
        propose(first.url, contract, "Backups restored within four hours")
    # What the earlier version left: the cluster under the relative path, inside the data dir.
    datadir = workdir / DATADIR
    nested = datadir / DATADIR
    shutil.move(datadir, workdir / "cluster")
    datadir.mkdir(mode=0o755)
    nested.parent.mkdir(parents=True)
    shutil.move(workdir / "cluster", nested)

    with accord_running(workdir, env) as second:
        assert expectations(second.url, contract) == ["Backups restored within four hours"]
    assert f"moved the PostgreSQL data found in {nested.resolve()}" in second.output
    assert (datadir / "PG_VERSION").exists()
    assert not (datadir / ".accord").exists()


def test_accord_replay_rebuilds_the_read_models_of_the_default_folder(workdir) -> None:
    env = accord_env()
    with accord_running(workdir, env) as first:
        contract = open_contract(first.url)
        propose(first.url, contract, "Releases on Tuesdays only")

    stopped = replay(workdir, env)
    assert stopped.returncode == 0, stopped.stderr
    rebuilt = re.search(r"rebuilt the read models from (\d+) events", stopped.stdout)
    assert rebuilt and int(rebuilt[1]) >= 2, stopped.stdout  # the contract, the expectation
    assert not postmasters_on(workdir / DATADIR)  # it stopped the server it started

    with accord_running(workdir, env) as second:
        assert expectations(second.url, contract) == ["Releases on Tuesdays only"]
        live = replay(workdir, env)
        assert live.returncode == 0, live.stderr
        assert expectations(second.url, contract) == ["Releases on Tuesdays only"]
        propose(second.url, contract, "Change freeze in December")
        assert sorted(expectations(second.url, contract)) == [
            "Change freeze in December",
            "Releases on Tuesdays only",
        ]


def test_a_second_accord_dev_on_the_same_folder_is_refused(workdir) -> None:
    env = accord_env()
    with accord_running(workdir, env):
        other = subprocess.run(
            [sys.executable, "-m", "accord", "dev"],
            cwd=workdir, env=accord_env(), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert other.returncode == 1, other.stderr
        assert "DATA_IN_USE" in other.stderr and "Traceback" not in other.stderr
        assert len(postmasters_on(workdir / DATADIR)) == 1


def test_accord_dev_on_a_port_taken_says_so_and_starts_nothing(workdir) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        other = subprocess.run(
            [sys.executable, "-m", "accord", "dev", "--port", str(port)],
            cwd=workdir, env=accord_env(), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert other.returncode == 1, other.stderr
    assert f"PORT_IN_USE: 127.0.0.1:{port} is taken" in other.stderr
    assert "Accord GraphQL:" not in other.stderr and "Traceback" not in other.stderr
    assert postmasters_on(workdir / DATADIR) == set()  # its database stopped with it


def test_a_data_folder_that_cannot_be_one_is_said_in_one_line(workdir) -> None:
    blocker = workdir / "a-file"
    blocker.write_text("not a folder")
    for command in (["dev"], ["audit", "verify"]):
        refused = subprocess.run(
            [sys.executable, "-m", "accord", *command], cwd=workdir,
            env=accord_env(blocker / "data"), capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert refused.returncode == 1, refused.stderr
        assert "DATA_DIR_UNUSABLE:" in refused.stderr, refused.stderr
        assert "a file is in the way of a folder" in refused.stderr
        assert "Traceback" not in refused.stderr


# Through GraphQL, as the client's CFO (a development token).


def open_contract(url: str) -> str:
    body = ask(
        url,
        "cfo",
        """mutation { openContract(input: {clientOrganisation: "Fabrikam", providerOrganisation: "Contoso",
        title: "Service desk", startsOn: "2027-01-01", name: "Chris", role: CLIENT_DECISION_MAKER}) {
        __typename ... on ContractChanged { created contract { id } } } }""",
    )
    opened = body["data"]["openContract"]
    assert opened["__typename"] == "ContractChanged", body
    return str(opened["created"] or opened["contract"]["id"])


def propose(url: str, contract: str, text: str) -> None:
    body = ask(
        url,
        "cfo",
        """mutation($c: ID!, $t: String!) { proposeExpectation(input: {contractId: $c, text: $t,
        businessArea: "Service desk"}) { __typename ... on ExpectationChanged { consistent } } }""",
        c=contract,
        t=text,
    )
    assert body["data"]["proposeExpectation"] == {
        "__typename": "ExpectationChanged",
        "consistent": True,
    }, body


def expectations(url: str, contract: str) -> list[str]:
    return [e["text"] for e in _contract(url, contract, "expectations { text }")["expectations"]]


def versions(url: str, contract: str) -> list[int]:
    """How many versions each expectation's history holds."""
    ids = [e["id"] for e in _contract(url, contract, "expectations { id }")["expectations"]]
    query = "query($id: ID!) { expectationHistory(id: $id) { version } }"
    return [len(ask(url, "cfo", query, id=i)["data"]["expectationHistory"]) for i in ids]


def contracts(url: str) -> list[str]:
    body = ask(url, "cfo", "{ contracts { edges { node { id } } } }")
    return [edge["node"]["id"] for edge in body["data"]["contracts"]["edges"]]


def _contract(url: str, contract: str, fields: str) -> dict[str, Any]:
    body = ask(url, "cfo", f"query($c: ID!) {{ contract(id: $c) {{ {fields} }} }}", c=contract)
    assert "errors" not in body, body
    return dict(body["data"]["contract"])


# The processes on the data folder.


def replay(workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`accord replay` as a user types it where `accord dev` runs, with no database named."""
    return subprocess.run(
        [sys.executable, "-m", "accord", "replay"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def postmasters_on(datadir: Path) -> set[int]:
    """The pids of the postmasters working in datadir (its backends work there too)."""
    parents: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.readlink(proc / "cwd") != str(datadir.resolve()):
                continue
            parents[int(proc.name)] = int((proc / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError):
            continue  # gone meanwhile, or a zombie
    return {pid for pid, parent in parents.items() if parent not in parents}


def eventually(holds: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Whether `holds` comes true within timeout seconds (a real process is watched)."""
    deadline = time.monotonic() + timeout
    while not holds():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def leave_postgres_running(datadir: Path) -> int:
    """Start a postmaster on datadir from a process that exits at once, so nobody owns it:
    what a crashed Accord leaves where the kernel does not stop its children."""
    user = SERVICE_USER if os.geteuid() == 0 else None
    command = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(datadir.resolve()), "-h", "127.0.0.1",
               "-p", str(free_port()), "-c", "unix_socket_directories="]  # fmt: skip
    launcher = (
        "import subprocess, sys; "
        "subprocess.Popen(sys.argv[2:], user=sys.argv[1] or None, start_new_session=True, "
        "stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)"
    )
    subprocess.run([sys.executable, "-c", launcher, user or "", *command], check=True)
    deadline = time.monotonic() + 60
    while (running := pgdata.postmaster(datadir)) is None or not running.ready:
        assert time.monotonic() < deadline, "the postgres left running never became ready"
        time.sleep(0.1)
    return running.pid
