"""Command line for the test infrastructure: `python -m accord.infra run -- pytest -q`."""

from __future__ import annotations

import contextlib
import signal
import tempfile
import threading
from pathlib import Path
from typing import Annotated

import typer

from accord.infra import kafka
from accord.infra.environment import run_with_infrastructure, say

app = typer.Typer(
    help="Real Postgres and Kafka on this machine, without Docker.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    command: Annotated[list[str], typer.Argument(help="The command, after `--`.")],
    brokers: Annotated[
        int, typer.Option(min=1, help="Kafka brokers to start: one per test worker.")
    ] = 1,
) -> None:
    """Start Postgres and Kafka, run COMMAND with DATABASE_URL and ACCORD_KAFKA_BOOTSTRAP set."""
    raise typer.Exit(run_with_infrastructure(command, brokers))


@app.command("kafka")
def kafka_foreground() -> None:
    """Run a Kafka broker in the foreground until Ctrl-C, printing its bootstrap address."""
    with tempfile.TemporaryDirectory(prefix="accord-kafka-") as workdir:
        with kafka.start(Path(workdir)) as broker:
            typer.echo(broker.bootstrap)
            say("kafka: running, Ctrl-C to stop")
            _wait_for_interrupt()
        say("kafka: stopped")


@app.command()
def jars() -> None:
    """Resolve the Kafka jars into the local cache (once) and print where they are."""
    typer.echo(kafka.ensure_jars())


def _wait_for_interrupt() -> None:
    """Block until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()


if __name__ == "__main__":
    app()
