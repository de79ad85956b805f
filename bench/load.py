"""The load generator the benchmarks share: N closed-loop clients, their latencies, the figures.

Every row of a benchmark is driven by `drive` with the same clients, so a ratio compares the
servers and not two load generators. A client sends one request, waits for the answer, and
sends the next; nothing is queued, so the latency is what a person would wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
import psutil


@dataclass(frozen=True)
class Outcome:
    """One answer: accepted or not, and whether it said its read model had caught up."""

    ok: bool
    consistent: bool | None = None
    problem: str = ""


ACCEPTED = Outcome(ok=True)

# A request: given its sequence number (for unique payloads), it answers how it went.
Send = Callable[[int], Awaitable[Outcome]]


@dataclass
class Figures:
    """What one or more measurements of a row saw."""

    accepted: int = 0
    refused: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    consistent: int = 0
    # Answers that said whether they were consistent (only some rows do).
    told: int = 0
    problems: list[str] = field(default_factory=list)
    # CPU time of the process that drove the requests (all its threads) while they ran.
    cpu_seconds: float = 0.0
    # CPU time of the processes under measure, from the first request until they were idle
    # again after the last (the work that follows each answer included); 0: not measured.
    served_cpu_seconds: float = 0.0
    # CPU time of the PostgreSQL server over the same span (every row uses the same server).
    database_cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Accepted commands per second."""
        return self.accepted / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """The latency (seconds) that `share` of accepted answers came within."""
        return percentile(self.latencies, share)

    @property
    def consistent_share(self) -> float | None:
        """Of the commands sent to a row that tells, the share answered consistent:true: a
        command refused or cut off (no answer at all) counts against it."""
        return self.consistent / (self.told + self.refused) if self.told else None

    def add(self, other: Figures) -> None:
        self.accepted += other.accepted
        self.refused += other.refused
        self.seconds += other.seconds
        self.cpu_seconds += other.cpu_seconds
        self.served_cpu_seconds += other.served_cpu_seconds
        self.database_cpu_seconds += other.database_cpu_seconds
        self.latencies.extend(other.latencies)
        self.consistent += other.consistent
        self.told += other.told
        self.problems.extend(other.problems[: 3 - len(self.problems)])


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


async def drive(
    send: Send, clients: int, *, seconds: float | None = None, requests: int | None = None
) -> Figures:
    """Run `clients` closed-loop clients for `seconds`, or until `requests` were sent in all."""
    if (seconds is None) == (requests is None):
        raise ValueError("give seconds or requests")
    figures = Figures()
    issued = 0
    start, cpu = time.perf_counter(), time.process_time()
    deadline = start + seconds if seconds is not None else float("inf")

    def more() -> bool:
        if requests is not None:
            return issued < requests
        return time.perf_counter() < deadline

    async def client() -> None:
        nonlocal issued
        while more():
            issued += 1
            sent = time.perf_counter()
            try:
                outcome = await send(issued)
            except Exception as error:  # a refused connection counts, it does not stop the run
                outcome = Outcome(ok=False, problem=f"{type(error).__name__}: {error}")
            took = time.perf_counter() - sent
            if outcome.ok:
                figures.accepted += 1
                figures.latencies.append(took)
            else:
                figures.refused += 1
                if len(figures.problems) < 3:
                    figures.problems.append(outcome.problem[:300])
            if outcome.consistent is not None:
                figures.told += 1
                figures.consistent += outcome.consistent

    await asyncio.gather(*(client() for _ in range(clients)))
    figures.seconds = time.perf_counter() - start
    figures.cpu_seconds = time.process_time() - cpu
    return figures


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


async def until_idle(
    pids: int | Sequence[int], *, below: float = 0.05, timeout: float = 30.0
) -> float:
    """Wait until each process of `pids` uses less than `below` of a CPU over half a second (a
    server still catching up on the last row's work would slow the next row); answers the wait.
    Each process on its own: several idle ones polling their peers add up to more than one."""
    pids = [pids] if isinstance(pids, int) else pids
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = [_cpu_seconds(pid) for pid in pids]
        await asyncio.sleep(0.5)
        after = [_cpu_seconds(pid) for pid in pids]
        if all(b - a < below * 0.5 for a, b in zip(before, after, strict=True)):
            break
    return time.monotonic() - started


def server_cpu(postmaster: psutil.Process) -> float:
    """The PostgreSQL server's CPU: its postmaster, every backend now running, and those that
    ended (their CPU is the postmaster's children's once they are reaped)."""
    times = postmaster.cpu_times()
    total = float(times.user + times.system + times.children_user + times.children_system)
    for child in postmaster.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            times = child.cpu_times()
            total += float(times.user + times.system)
    return total


async def postmaster_of(server_url: str) -> psutil.Process:
    """The PostgreSQL server's own process: the parent of a connection's backend."""
    conn = await asyncpg.connect(server_url)
    try:
        backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
        parent = psutil.Process(backend).parent()
    finally:
        await conn.close()
    if parent is None:
        raise RuntimeError("the PostgreSQL server is not on this machine")
    return parent


def cpu_seconds(pids: Sequence[int]) -> float:
    """User and system CPU time of the processes so far, all their threads."""
    return sum(_cpu_seconds(pid) for pid in pids)


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, all its threads (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        # Fields after the command name (which may hold spaces) start after its ')'.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
