"""Signing a service's log: a checkpoint that extends the one before it, against one that reads
the whole log, as the log grows.

Run: `.venv/bin/python -m bench.checkpoint [--events N] [--since K] [--rounds R]`. Starts the
embedded PostgreSQL (fsync on), stores N events in a log of its own
through Accord's recorder (notes rewritten in saves of a thousand events), and signs it once.
Then, R times: K more events are stored, and the log is signed both ways in turn, each on the
same log: `store.checkpoint` (what the schedule and `accord audit checkpoint` run: the newest
checkpoint's Merkle frontier and heads extended by the events stored since) and the whole log
read and signed (`sign` over `log.read`, what every checkpoint did before). Prints each way's
seconds and the ratio whole/extended (the median of the rounds'): the whole log's cost grows
with the log, the extension's with what was stored since (and the heads it rewrites).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.infra import postgres
from shared.audit import log, store
from shared.audit.checkpoint import sign
from shared.eventstore import build_application
from shared.provenance import acting_as
from shared.settings import Settings
from tests.support.notes import Note, Notes

SERVICE = "benchckpt"
PER_SAVE = 1000
REWRITES = 9  # each note: written, then rewritten this many times


def store_events(app: Any, count: int) -> None:
    """`count` events (about), notes of ten events each, a thousand events a save."""
    with acting_as("bench", "decision_maker"):
        pending: list[Note] = []
        for _ in range(max(1, count // (REWRITES + 1))):
            note = Note(contract_id=uuid4(), text="bench")
            for n in range(REWRITES):
                note.rewrite(f"rewrite {n}", "bench")
            pending.append(note)
            if len(pending) * (REWRITES + 1) >= PER_SAVE:
                app.save(*pending)
                pending = []
        if pending:
            app.save(*pending)


def timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.checkpoint", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="events stored first")
    parser.add_argument("--since", type=int, default=1_000, help="events stored each round")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="accord-bench-") as workdir,
        postgres.start(Path(workdir) / "postgres", durable=True) as server,
    ):
        run(server.url, options.events, options.since, options.rounds)


def run(database_url: str, events: int, since: int, rounds: int) -> None:
    settings = Settings(database_url=database_url, event_store="accord")
    app_class = type(SERVICE.capitalize(), (Notes,), {})
    app: Any = build_application(app_class, SERVICE, settings)
    key = Ed25519PrivateKey.generate()
    schema, table = log.events_table(SERVICE)
    _, seconds = timed(lambda: store_events(app, events))
    print(f"stored {events:,} events in {seconds:.1f} s")
    ratios = []
    with psycopg.connect(database_url) as conn:
        first, seconds = timed(lambda: store.checkpoint(conn, SERVICE, key))
        print(
            f"first checkpoint (the whole log, no frontier yet): {first.checkpoint.size:,} events, {seconds:.2f} s"
        )
        for n in range(1, rounds + 1):
            store_events(app, since)
            whole, whole_s = timed(lambda: sign(SERVICE, list(log.read(conn, schema, table)), key))
            conn.commit()
            extended, extended_s = timed(lambda: store.checkpoint(conn, SERVICE, key))
            assert extended is not None
            assert extended.checkpoint.root == whole.checkpoint.root
            assert extended.heads == whole.heads
            ratios.append(whole_s / extended_s)
            print(
                f"  round {n}: log of {extended.checkpoint.size:,} events;"
                f" the whole log read and signed {whole_s:.2f} s,"
                f" extended by {since:,} {extended_s:.3f} s ({whole_s / extended_s:.1f}x)"
            )
    app.close()
    print(f"whole/extended: {statistics.median(ratios):.1f}x (median of {rounds} rounds)")


if __name__ == "__main__":
    main()
