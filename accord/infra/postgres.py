"""PostgreSQL for the embedded default and the tests: the server named by the environment, else
one from the pgserver wheel."""

from __future__ import annotations

import logging
import os
import pwd
import signal
import stat
import subprocess
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
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
# A server that dies this many times, each within RESTART_WINDOW_S of its start, is not started
# again: something is wrong with it (the data, the disk), and the log says what.
RESTARTS_IN_A_ROW = 3
RESTART_WINDOW_S = 30.0

log = logging.getLogger(__name__)


@dataclass
class Launch:
    """How the embedded server is started: again the same way, on the same port and data."""

    command: list[str]
    datadir: Path
    log: Path
    port: int
    run_as: str | None

    def start(self) -> subprocess.Popen[bytes]:
        # If we die without stopping it (kill -9), the kernel asks it for a fast shutdown;
        # where it cannot, the next start finds it by postmaster.pid and stops it.
        process = spawn(
            self.command, self.log, cwd=self.datadir, user=self.run_as,
            die_with_parent=signal.SIGINT,
        )  # fmt: skip
        try:
            _wait_ready(process, self.port, self.log)
        except BaseException:
            stop_group(process, STOP_TIMEOUT_S, graceful=signal.SIGINT)
            raise
        return process


@dataclass
class PostgresServer:
    """A reachable server; stop() shuts down only a server this module started."""

    url: str
    process: subprocess.Popen[bytes] | None = None
    # The data folder's lock (pgdata.claim), let go once the server has stopped.
    lock: IO[str] | None = None
    # For an embedded server: how to start it again (see supervise).
    launch: Launch | None = None
    _stopping: bool = False
    _guard: threading.Lock = field(default_factory=threading.Lock)
    _watcher: threading.Thread | None = None

    def supervise(self, on_give_up: Callable[[], None]) -> None:
        """Start the embedded server again whenever it dies (killed, out of memory) until
        stop(): its clients reconnect to the same port and find every committed change (fsync
        on). After RESTARTS_IN_A_ROW quick deaths `on_give_up` is called instead."""
        if self.launch is None or self.process is None:
            return  # a server named by the environment is its operator's to keep up
        self._watcher = threading.Thread(
            target=self._watch, args=(on_give_up,), name="postgres-supervisor", daemon=True
        )
        self._watcher.start()

    def _watch(self, on_give_up: Callable[[], None]) -> None:
        # This thread starts every server after the first, so it lives as long as each one
        # (the kernel stops a server when the thread that started it ends: die_with_parent).
        assert self.launch is not None
        quick_deaths = 0
        while True:
            process = self.process
            assert process is not None
            started = time.monotonic()
            code = process.wait()  # reaped: a new server is not refused by the old one's pid
            with self._guard:
                if self._stopping:
                    return
            quick_deaths = quick_deaths + 1 if time.monotonic() - started < RESTART_WINDOW_S else 1
            if quick_deaths > RESTARTS_IN_A_ROW:
                log.error(
                    "the embedded PostgreSQL exited with code %s, %d times in a row each within"
                    " %.0f s of its start; not starting it again (see %s)",
                    code, quick_deaths, RESTART_WINDOW_S, self.launch.log,
                )  # fmt: skip
                on_give_up()
                return
            log.error(
                "the embedded PostgreSQL (pid %d) exited with code %s; starting it again on the"
                " same data", process.pid, code,
            )  # fmt: skip
            try:
                restarted = self._restart()
            except Exception as error:
                log.error("the embedded PostgreSQL did not start again: %s", error)
                on_give_up()
                return
            if restarted is None:
                return
            log.info("the embedded PostgreSQL is back (pid %d)", restarted.pid)

    def _restart(self) -> subprocess.Popen[bytes] | None:
        """The server started again, or None if stop() came first (then none is left)."""
        assert self.launch is not None
        # Its backends see the postmaster gone and exit within moments; until they have,
        # the shared memory they hold keeps a new server from starting.
        for attempt in range(20):
            if self._stopping:
                return None
            try:
                process = self.launch.start()
                break
            except RuntimeError:
                if attempt == 19:
                    raise
                time.sleep(0.25)
        with self._guard:
            if self._stopping:
                stop_group(process, STOP_TIMEOUT_S, graceful=signal.SIGINT)
                return None
            self.process = process
        return process

    def stop(self) -> None:
        """Stop the embedded server (fast shutdown); an external one is left alone."""
        with self._guard:
            self._stopping = True
            process = self.process
        if process is not None:
            # SIGINT is Postgres' "fast" shutdown; SIGTERM ("smart") waits for every client.
            stop_group(process, STOP_TIMEOUT_S, graceful=signal.SIGINT)
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(STOP_TIMEOUT_S)
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
        command = [
            str(POSTGRES_BIN_PATH / "postgres"), "-D", str(datadir),
            "-h", "127.0.0.1", "-p", str(port), "-c", "unix_socket_directories=",
            "-c", "max_connections=200",
            # Throwaway test data: an OS crash is the only thing fsync guards against there.
            "-c", f"fsync={'on' if durable else 'off'}",
        ]  # fmt: skip
        server.launch = Launch(command, datadir, workdir / "postgres.log", port, run_as)
        server.url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{SUPERUSER}"
        server.process = server.launch.start()
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
