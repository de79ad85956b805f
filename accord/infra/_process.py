"""Small helpers shared by the infrastructure starters."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

# prctl(2) option: the signal the kernel sends this process when its parent dies.
PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """Return a loopback TCP port that is free right now."""
    # The port is released before the server binds it; a clash is possible but rare on a
    # test machine, and the server then fails loudly with its log in the error.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(address: str) -> bool:
    """Return whether something accepts TCP connections at host:port."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def log_tail(path: Path, lines: int = 40) -> str:
    """Return the last lines of a log file, or a note that it is missing."""
    if not path.exists():
        return f"(no log at {path})"
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def spawn(
    command: list[str],
    output: Path,
    cwd: Path,
    user: str | None = None,
    die_with_parent: int | None = None,
) -> subprocess.Popen[bytes]:
    """Start a server in its own session, its stdout and stderr appended to output.

    die_with_parent: the signal the server gets when this process dies (Linux only), however
    it dies; the thread calling this must live as long as the server, as the kernel watches it.
    """
    with output.open("ab") as out:
        # Own session: a Ctrl-C in the terminal reaches only us, and we stop the server in
        # order instead of it dying half-way through its shutdown.
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            user=user,
            start_new_session=True,
            preexec_fn=_dying_with_parent(die_with_parent),
        )


def _dying_with_parent(sig: int | None) -> Callable[[], None] | None:
    """A preexec_fn that has the kernel send sig to the child when its parent dies."""
    if sig is None or sys.platform != "linux":
        return None
    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)

    def arrange() -> None:
        # Runs in the child after fork and after the switch to `user` (which would clear it).
        libc.prctl(PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent:  # the parent died before the request took effect
            os.kill(os.getpid(), sig)

    return arrange


def stop_group(
    process: subprocess.Popen[bytes], timeout: float, graceful: int = signal.SIGTERM
) -> None:
    """Ask the server to stop, then SIGKILL its whole process group after the timeout."""
    if process.poll() is not None:
        return
    # Only the leader gets the polite signal: it shuts its own workers down in order.
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(graceful)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        # The server runs in its own session, so its process group id is its pid.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
