"""PostgreSQL for the embedded default and the tests: the server named by the environment, else
one from the pgserver wheel."""

from __future__ import annotations

import os
import pwd
import signal
import stat
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import quote

from accord.infra import pgdata
from accord.infra._process import free_port, log_tail, spawn, stop_group

with warnings.catch_warnings():
    # pgserver resolves an XDG runtime dir at import time, for a lock we never use, and
    # warns when XDG_RUNTIME_DIR is unset (as in CI and containers).
    warnings.simplefilter("ignore")
    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

# Postgres refuses to run as root; pgserver uses this account then, and so do we.
SERVICE_USER = "pgserver"
SUPERUSER = "postgres"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


@dataclass
class PostgresServer:
    """A reachable server; stop() shuts down only a server this module started."""

    url: str
    process: subprocess.Popen[bytes] | None = None
    # The data folder's lock (pgdata.claim), let go once the server has stopped.
    lock: IO[str] | None = None

    def stop(self) -> None:
        """Stop the embedded server (fast shutdown); an external one is left alone."""
        if self.process is not None:
            # SIGINT is Postgres' "fast" shutdown; SIGTERM ("smart") waits for every client.
            stop_group(self.process, STOP_TIMEOUT_S, graceful=signal.SIGINT)
        if self.lock is not None:
            self.lock.close()
            self.lock = None

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start(workdir: Path, *, durable: bool = False) -> PostgresServer:
    """Return the environment's server if it names one, else start an embedded one.

    durable keeps fsync on: the embedded default's data must outlive a power cut, test data not.
    """
    url = external_url(dict(os.environ))
    if url is not None:
        return PostgresServer(url=url)
    return _start_embedded(workdir, durable=durable)


def external_url(env: dict[str, str]) -> str | None:
    """Return the URL of a server given by DATABASE_URL or the POSTGRES_* variables."""
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    host = env.get("POSTGRES_HOST")
    if not host:
        return None
    user = quote(env.get("POSTGRES_USER", SUPERUSER), safe="")
    password = env.get("POSTGRES_PASSWORD")
    auth = f"{user}:{quote(password, safe='')}" if password else user
    port = env.get("POSTGRES_PORT", "5432")
    database = quote(env.get("POSTGRES_DB", SUPERUSER), safe="")
    return f"postgresql://{auth}@{host}:{port}/{database}"


def _start_embedded(workdir: Path, *, durable: bool) -> PostgresServer:
    """Init (once) and run the wheel's Postgres on a free loopback TCP port.

    Raises pgdata.DataInUse while another Accord process runs a server on workdir."""
    # pgserver.get_server() listens only on a unix socket on Linux and daemonizes through
    # pg_ctl; running the wheel's `postgres` as our child gives TCP, which every client and
    # process can use, and a process we wait for (and reap) on stop.
    given = workdir / "pgdata"
    # Absolute: initdb and postgres run with the data dir as their working directory.
    datadir = given.resolve()
    lock = pgdata.claim(workdir)
    server = PostgresServer(url="", lock=lock)
    try:
        run_as = _prepare_datadir(datadir)
        pgdata.move_nested(datadir, given)
        # Nobody else holds the lock: a server still running here outlived its Accord process.
        pgdata.stop_left_behind(datadir)
        if not (datadir / "PG_VERSION").exists():
            _initdb(datadir, run_as)
        port = free_port()
        log = workdir / "postgres.log"
        command = [
            str(POSTGRES_BIN_PATH / "postgres"), "-D", str(datadir),
            "-h", "127.0.0.1", "-p", str(port), "-c", "unix_socket_directories=",
            "-c", "max_connections=200",
            # Throwaway test data: an OS crash is the only thing fsync guards against there.
            "-c", f"fsync={'on' if durable else 'off'}",
        ]  # fmt: skip
        # If we die without stopping it (kill -9), the kernel asks it for a fast shutdown;
        # where it cannot, the next start finds it by postmaster.pid and stops it.
        server.process = spawn(
            command, log, cwd=datadir, user=run_as, die_with_parent=signal.SIGINT
        )
        server.url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{SUPERUSER}"
        _wait_ready(server.process, port, log)
    except BaseException:
        server.stop()
        raise
    return server


def _prepare_datadir(datadir: Path) -> str | None:
    """Create the data dir owned by the account that will run Postgres; return that account."""
    datadir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return None
    ensure_user_exists(SERVICE_USER)
    # The service account must reach the data dir and the wheel's binaries and libraries.
    ensure_prefix_permissions(datadir)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    read = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, read | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
    entry = pwd.getpwnam(SERVICE_USER)
    os.chown(datadir, entry.pw_uid, entry.pw_gid)
    return SERVICE_USER


def _initdb(datadir: Path, run_as: str | None) -> None:
    """Create a cluster whose superuser logs in without a password from anywhere local."""
    command = [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(datadir),
               "--auth=trust", "--encoding=utf8", "-U", SUPERUSER]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, cwd=datadir, user=run_as
    )
    if result.returncode != 0:
        raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Poll with pg_isready until the server accepts connections, or fail with its log."""
    probe = [str(POSTGRES_BIN_PATH / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port),
             "-U", SUPERUSER, "-d", SUPERUSER, "-t", "1"]  # fmt: skip
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with code {process.returncode}:\n{log_tail(log)}")
        if subprocess.run(probe, check=False).returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"postgres not ready after {READY_TIMEOUT_S:.0f} s:\n{log_tail(log)}")
