"""The embedded server's data folder: which Accord process uses it, a postmaster left running
on it, and a cluster that an earlier version put one level too deep."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

# Held (flock) by the Accord process that runs a server on the folder, for as long as it does.
# The kernel drops it when that process dies, even by SIGKILL, so a postmaster found running
# while nobody holds it was left behind by a process that is gone.
LOCK_FILE = "accord.lock"
PID_FILE = "postmaster.pid"
# How long a postmaster left behind gets for a clean (fast) shutdown before it is cut short.
ORPHAN_STOP_S = 30.0


class DataUnavailable(RuntimeError):
    """The data folder cannot be used now; `code` says why, for the command's one line."""

    code = "DATA_UNAVAILABLE"


class DataDirUnusable(DataUnavailable):
    """The data folder cannot be made or written (a file in its place, no permission)."""

    code = "DATA_DIR_UNUSABLE"

    def __init__(self, workdir: Path, error: OSError) -> None:
        reason = error.strerror or str(error)
        if isinstance(error, FileExistsError | NotADirectoryError):
            reason = "a file is in the way of a folder"
        # The path that failed, when it is not the folder itself (a file where a parent is).
        path = str(error.filename or workdir)
        where = "" if path == str(workdir) else f" ({path})"
        super().__init__(f"{workdir} cannot hold Accord's data: {reason}{where}")


class DataInUse(DataUnavailable):
    """Another Accord process runs a server on this data: starting a second one would fail."""

    code = "DATA_IN_USE"

    def __init__(self, workdir: Path, holder: str, url: str | None) -> None:
        self.workdir = workdir
        self.holder = holder
        # The running server, when it says where it listens: a tool may share it.
        self.url = url
        who = f"Accord process {holder}" if holder else "another Accord process"
        super().__init__(f"{workdir} is in use by {who}: stop it first")


@dataclass(frozen=True)
class Postmaster:
    """What a running server wrote in postmaster.pid."""

    pid: int
    port: int | None
    host: str
    ready: bool

    @property
    def url(self) -> str | None:
        """Where it accepts connections, if it listens on TCP and is ready."""
        if not self.ready or self.port is None or not self.host:
            return None
        host = "127.0.0.1" if self.host in ("*", "0.0.0.0") else self.host
        return f"postgresql://postgres@{host}:{self.port}/postgres"


def claim(workdir: Path) -> IO[str]:
    """Take the folder for this process, or raise DataInUse (DataDirUnusable if it cannot
    be made); close the answer to let go."""
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        lock = (workdir / LOCK_FILE).open("a+", encoding="utf-8")
    except OSError as error:
        raise DataDirUnusable(workdir, error) from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip()
        lock.close()
        running = postmaster(workdir / "pgdata")
        raise DataInUse(workdir, holder, running.url if running else None) from None
    lock.seek(0)
    lock.truncate()
    lock.write(str(os.getpid()))
    lock.flush()
    return lock


def postmaster(datadir: Path) -> Postmaster | None:
    """The postmaster that runs on datadir now, from its postmaster.pid; None if there is none."""
    try:
        lines = (datadir / PID_FILE).read_text(encoding="utf-8").splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return None
    if not _runs_on(pid, datadir):
        return None
    field = dict(enumerate(lines))
    port = field.get(3, "").strip()
    return Postmaster(
        pid=pid,
        port=int(port) if port.isdigit() else None,
        host=field.get(5, "").strip(),
        ready=field.get(7, "").strip() == "ready",
    )


def stop_left_behind(datadir: Path, timeout: float = ORPHAN_STOP_S) -> int | None:
    """Stop a postmaster still running on datadir (the folder's lock must be held); answer
    its pid. A postmaster.pid whose process is gone is removed, as Postgres would not always."""
    running = postmaster(datadir)
    if running is None:
        _remove_stale_pid_file(datadir)
        return None
    # Not our child: we can only signal it and watch it go. SIGINT is the fast shutdown:
    # open transactions roll back, a checkpoint is written, postmaster.pid is removed.
    _signal(running.pid, signal.SIGINT)
    if not _gone(running.pid, datadir, timeout):
        # Immediate shutdown: the next start recovers from the WAL, nothing committed is lost.
        _signal(running.pid, signal.SIGQUIT)
        if not _gone(running.pid, datadir, timeout):
            _signal(running.pid, signal.SIGKILL)
            _gone(running.pid, datadir, timeout)
    _remove_stale_pid_file(datadir)
    log.warning(
        "stopped the PostgreSQL server (pid %d) left running on %s by an Accord process that "
        "is gone",
        running.pid,
        datadir,
    )
    return running.pid


def move_nested(datadir: Path, given: Path) -> bool:
    """Move a cluster from where a relative data dir used to land to datadir; answer if moved.

    Postgres was once started with a relative `-D` while its working directory was the data
    dir itself, so the cluster was made at `<datadir>/<given>`."""
    if given.is_absolute():
        return False
    nested = Path(os.path.normpath(datadir / given))
    if nested == datadir or not (nested / "PG_VERSION").exists():
        return False
    if (datadir / "PG_VERSION").exists():
        log.warning("ignored a second PostgreSQL cluster in %s; %s is used", nested, datadir)
        return False
    stop_left_behind(nested)
    # PG_VERSION goes last: until it is in place, an interrupted move is simply resumed.
    for entry in sorted(nested.iterdir(), key=lambda p: p.name == "PG_VERSION"):
        entry.rename(datadir / entry.name)
    # Postgres refuses a data dir that others may read; the outer folder was made with the umask.
    datadir.chmod(nested.stat().st_mode & 0o777)
    for empty in (nested, *nested.parents):
        if empty == datadir or datadir not in empty.parents:
            break
        with contextlib.suppress(OSError):
            empty.rmdir()
    log.warning("moved the PostgreSQL data found in %s to %s, where it belongs", nested, datadir)
    return True


def _runs_on(pid: int, datadir: Path) -> bool:
    """Whether pid is a live (not zombie) postgres process on datadir."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    proc = Path("/proc") / str(pid)
    if not proc.exists():
        return True  # no /proc to ask: trust postmaster.pid, as Postgres itself does
    try:
        state = (proc / "stat").read_text().rpartition(")")[2].split()[0]
        program = (proc / "cmdline").read_bytes().split(b"\0")[0].split()[0]
    except (OSError, IndexError):
        return False
    if state == "Z" or not Path(program.decode(errors="replace")).name.startswith("postgres"):
        return False
    # The postmaster works in its data dir: a pid reused by another cluster's server is not it.
    try:
        return os.path.realpath(os.readlink(proc / "cwd")) == os.path.realpath(datadir)
    except OSError:
        return True


def _gone(pid: int, datadir: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _runs_on(pid, datadir):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _remove_stale_pid_file(datadir: Path) -> None:
    """Remove postmaster.pid when no postgres runs under its pid.

    Postgres removes a stale one itself only if the pid is free; after a reboot or in a
    container the pid is often another program's, and the server would refuse to start."""
    with contextlib.suppress(FileNotFoundError):
        if postmaster(datadir) is None:
            (datadir / PID_FILE).unlink()
