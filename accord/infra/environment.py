"""Run a command with real Postgres and Kafka around it, and tear both down afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from accord.infra import kafka, postgres

# How long a command interrupted by Ctrl-C gets to finish its own cleanup.
CHILD_INTERRUPT_GRACE_S = 30.0
SignalHandler = Callable[[int, FrameType | None], Any]


def run_with_infrastructure(command: list[str], brokers: int = 1) -> int:
    """Start Postgres and `brokers` Kafka brokers, run command with their addresses, stop them
    all; return its code. The first broker is ACCORD_KAFKA_BOOTSTRAP; ACCORD_TEST_KAFKA_BROKERS
    lists every broker's listeners, for test workers that each want a broker of their own."""
    workdir = Path(tempfile.mkdtemp(prefix="accord-infra-"))
    try:
        with contextlib.ExitStack() as stack:
            with _on_sigterm(_raise_interrupt):
                db = _start_postgres(workdir / "postgres", stack)
                started = [_start_kafka(workdir / f"kafka-{n}", stack) for n in range(brokers)]
            listeners = [_listeners(broker) for broker in started]
            env = {
                **os.environ,
                "DATABASE_URL": db.url,
                "ACCORD_KAFKA_BOOTSTRAP": started[0].bootstrap,
                "ACCORD_TEST_KAFKA_BROKERS": json.dumps(listeners),
            }
            return _run_child(command, env)
    except KeyboardInterrupt:
        say("interrupted: infrastructure stopped")
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def say(line: str) -> None:
    """Print one progress line on stderr, leaving stdout to the command."""
    print(line, file=sys.stderr, flush=True)


def _start_postgres(workdir: Path, stack: contextlib.ExitStack) -> postgres.PostgresServer:
    """Start Postgres (or adopt the environment's) and register its stop."""
    began = time.monotonic()
    say("postgres: starting")
    db = postgres.start(workdir)
    if db.process is None:
        say(f"postgres: using the server named by the environment, {db.url}")
        return db
    stack.callback(_stop, "postgres", db.stop)
    say(f"postgres: ready at {db.url} ({time.monotonic() - began:.1f} s)")
    return db


def _start_kafka(workdir: Path, stack: contextlib.ExitStack) -> kafka.KafkaBroker:
    """Resolve the jars, start the broker and register its stop."""
    say(f"kafka: jars in {kafka.ensure_jars()}")
    began = time.monotonic()
    say("kafka: starting")
    broker = kafka.start(workdir)
    stack.callback(_stop, "kafka", broker.stop)
    say(f"kafka: ready at {broker.bootstrap} ({time.monotonic() - began:.1f} s)")
    return broker


def _listeners(broker: kafka.KafkaBroker) -> dict[str, str]:
    """A broker's listeners: plain, asking for credentials, speaking TLS (verified by the CA
    file), and asking for credentials over TLS."""
    return {
        "plain": broker.bootstrap,
        "sasl": broker.sasl_bootstrap,
        "ssl": broker.ssl_bootstrap,
        "ssl_cafile": broker.ssl_cafile,
        "sasl_ssl": broker.sasl_ssl_bootstrap,
    }


def _stop(name: str, stop: Callable[[], None]) -> None:
    """Stop one server and say so."""
    stop()
    say(f"{name}: stopped")


def _run_child(command: list[str], env: dict[str, str]) -> int:
    """Run the command to completion; on Ctrl-C give it a grace period, then kill it."""
    say(f"run: {' '.join(command)}")
    process = subprocess.Popen(command, env=env)
    try:
        # A SIGTERM to us (CI cancelling the job) is passed on, and teardown follows normally.
        with _on_sigterm(lambda _signum, _frame: process.terminate()):
            code = _wait_child(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    say(f"run: exited with {code}")
    # Popen reports death by signal N as -N; a shell (and CI) expects 128 + N.
    return 128 - code if code < 0 else code


def _wait_child(process: subprocess.Popen[bytes]) -> int:
    """Wait for the child; after Ctrl-C (which it received too) wait only a grace period."""
    try:
        return process.wait()
    except KeyboardInterrupt:
        say("run: interrupted, waiting for the command to finish")
        try:
            return process.wait(CHILD_INTERRUPT_GRACE_S)
        except subprocess.TimeoutExpired:
            return 130


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM into KeyboardInterrupt so `finally` blocks stop what has started."""
    raise KeyboardInterrupt


@contextlib.contextmanager
def _on_sigterm(handler: SignalHandler) -> Iterator[None]:
    """Install a SIGTERM handler for the block (main thread only, as Python requires)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
