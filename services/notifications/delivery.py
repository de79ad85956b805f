"""The delivery worker: sends the notices that are due, and records each outcome.

Exactly-once effect: a notice is sent only while its own record (the event store, not the
table) says it is undelivered, and "delivered" is recorded as soon as the send succeeds:
outcomes that finish while a save is under way go together into the next one (one insert for
many), never wait for a round to end. A crash
between the send and that record is the one window left: the notice goes out again on restart
with the SAME idempotency key (the webhook's Idempotency-Key header, the email's Message-ID),
so the receiver recognises and drops the repeat.

Each send runs on its own, in one of `delivery_concurrency` slots, with a deadline: a slow or
dead receiver holds one slot, never the other notices. The worker claims only as many notices
as there are free slots, when a slot frees: a claimed notice is sent at once, so its claim
(longer than any send's deadline) never expires while it waits its turn, and no other replica
claims it meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import aiohttp
import asyncpg

from services.notifications import reads
from services.notifications.actor import ServiceActor
from services.notifications.backoff import retry_delay
from services.notifications.channels import smtp, webhook
from services.notifications.channels.outgoing import DeliveryFailed, Outgoing
from services.notifications.digest import digest_text
from services.notifications.group_commit import GroupCommit
from services.notifications.idempotency import digest_key
from services.notifications.outcomes import IN_APP_ADDRESS, Delivered, Failed, NoticeRef, Outcome
from services.notifications.preferences import Channel
from services.notifications.settings import NotifySettings
from shared.batches import BatchLoop
from shared.telemetry import continue_trace

log = logging.getLogger(__name__)

Row = asyncpg.Record

# What a stopping worker gives the sends under way: within the shutdown's step (5 s).
STOP_GRACE_SECONDS = 3.0

# What a send needs of each notice it claims.
_RETURNING = """
RETURNING notice_id, key, contract_id, source_event_id, trigger, person_id, channel, subject,
          body, data, urgent, not_before, queued_at, record_id, traceparent
"""
# A due notice nobody is on (or whose worker's claim expired).
_UNCLAIMED = """
    WHERE status IN ('queued', 'retrying') AND next_attempt_at <= now()
      AND (claimed_until IS NULL OR claimed_until < now())
"""

CLAIM = f"""
UPDATE notices SET claimed_until = now() + make_interval(secs => $2)
WHERE notice_id IN (
    SELECT notice_id FROM notices {_UNCLAIMED}
    ORDER BY urgent DESC, next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
{_RETURNING}"""

# The rest of the digests the notices claimed belong to (contract, person, channel each): a
# digest goes as one send, however few slots were free.
CLAIM_DIGESTS = f"""
UPDATE notices SET claimed_until = now() + make_interval(secs => $5)
WHERE notice_id IN (
    SELECT notice_id FROM notices {_UNCLAIMED}
      AND not_before IS NOT NULL
      AND (contract_id, person_id, channel) IN
          (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]))
    ORDER BY next_attempt_at
    LIMIT $4
    FOR UPDATE SKIP LOCKED
)
{_RETURNING}"""


def ref_of(row: Row) -> NoticeRef:
    """The row's notice and its record, as the event store's own UUIDs (not asyncpg's)."""
    record_id = row["record_id"]
    return NoticeRef.of(UUID(str(row["notice_id"])), UUID(str(record_id)) if record_id else None)


def batches(rows: Sequence[Row]) -> list[list[Row]]:
    """One send per notice, except digest notices: one send per person, contract and channel."""
    sends: list[list[Row]] = []
    digests: dict[tuple[str, str, str], list[Row]] = {}
    for row in rows:
        if row["not_before"] is None:
            sends.append([row])
        else:
            key = (str(row["contract_id"]), row["person_id"], row["channel"])
            digests.setdefault(key, []).append(row)
    return sends + list(digests.values())


def payload_of(row: Row) -> dict[str, Any]:
    """What a webhook receives for one notice."""
    return {
        "key": row["key"],
        "notice_id": str(row["notice_id"]),
        "contract_id": str(row["contract_id"]),
        "person_id": row["person_id"],
        "trigger": row["trigger"],
        "subject": row["subject"],
        "text": row["body"],
        "data": json.loads(row["data"]),
        "urgent": row["urgent"],
        "queued_at": row["queued_at"].isoformat(),
    }


def outgoing_of(rows: Sequence[Row]) -> Outgoing:
    """A single notice as itself; digest notices gathered under the digest's own key."""
    first = rows[0]
    if first["not_before"] is None:
        return Outgoing(
            key=first["key"],
            message_id=str(first["notice_id"]),
            contract_id=str(first["contract_id"]),
            person_id=first["person_id"],
            subject=first["subject"],
            text=first["body"],
            payload=payload_of(first),
        )
    key = digest_key(r["key"] for r in rows)
    subject, text = digest_text([(r["subject"], r["body"]) for r in rows])
    return Outgoing(
        key=key,
        message_id=key,
        contract_id=str(first["contract_id"]),
        person_id=first["person_id"],
        subject=subject,
        text=text,
        payload={"digest": key, "notices": [payload_of(r) for r in rows]},
    )


def failure_reason(error: Exception) -> str:
    """What the record says about a failed send."""
    if isinstance(error, DeliveryFailed):
        return error.reason
    if isinstance(error, TimeoutError):
        return "send timed out"
    return f"{type(error).__name__}: {error}"


class DeliveryWorker:
    def __init__(
        self,
        actor: ServiceActor,
        pool: asyncpg.Pool,
        settings: NotifySettings,
        http: aiohttp.ClientSession,
    ) -> None:
        self.actor = actor
        self.pool = pool
        self.settings = settings
        self.http = http
        # The sends under way, each in a slot of its own.
        self._sending: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()
        self._outcomes = GroupCommit(self._record)
        # A step that claimed anything looks again at once (for the slots still free, or
        # once one frees); one that found nothing due waits for the interval or a wake.
        self._loop = BatchLoop(
            "notifications delivery", self.deliver_due, batch_size=1,
            idle_seconds=settings.delivery_interval_seconds, linger=settings.linger,
        )  # fmt: skip

    @property
    def last_error(self) -> str:
        return self._loop.last_error

    def wake(self) -> None:
        self._loop.wake()

    async def deliver_due(self) -> int:
        """Claim as many due notices as there are free slots (see `_free_slots`) and start
        sending them; how many were claimed."""
        free = await self._free_slots()
        limit = min(free, self.settings.delivery_batch_size)
        rows = await self.pool.fetch(CLAIM, limit, self.settings.claim_seconds)
        if not rows:
            return 0
        held = [r for r in rows if r["not_before"] is not None]
        digests = {(r["contract_id"], r["person_id"], r["channel"]) for r in held}
        if digests:
            contracts, people, channels = (list(column) for column in zip(*digests, strict=True))
            rows += await self.pool.fetch(
                CLAIM_DIGESTS, contracts, people, channels,
                self.settings.delivery_batch_size, self.settings.claim_seconds,
            )  # fmt: skip
        # One read of their records: those delivered or rescheduled meanwhile (the table had
        # not caught up) are left alone.
        now = datetime.now(UTC)
        due = set(await self.actor.read(self.actor.app.due_notices, [ref_of(r) for r in rows], now))
        for send in batches([r for r in rows if ref_of(r) in due]):
            task = asyncio.create_task(self._guarded(send, now), name="notifications-send")
            self._sending.add(task)
            task.add_done_callback(self._sent)
        return len(rows)

    async def _free_slots(self) -> int:
        """How many slots are free to claim for: waits while none is, and once one is, up to
        the linger for half of them, so that sends ending together are refilled by one claim."""
        enough = max(1, self.settings.delivery_concurrency // 2)
        loop = asyncio.get_running_loop()
        until: float | None = None
        while True:
            free = self.settings.delivery_concurrency - len(self._sending)
            if free >= enough:
                return free
            wait: float | None = None
            if free > 0:
                until = loop.time() + self.settings.linger if until is None else until
                if (wait := until - loop.time()) <= 0:
                    return free
            self._slot_freed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._slot_freed.wait(), wait)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._slot_freed.set()

    async def _guarded(self, rows: Sequence[Row], now: datetime) -> None:
        # A send continues the trace its notice's source event was stored in (a digest, of
        # many sources, one of its own): the webhook carries it, as the source's command did.
        traces = {r["traceparent"] for r in rows}
        trace = traces.pop() if len(traces) == 1 else ""
        try:
            with continue_trace(trace, f"notifications deliver {rows[0]['channel']}"):
                await self.deliver(rows, now)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # Not even the outcome could be recorded: the claim expires and it is tried again.
            log.warning("notifications: delivery of %s not recorded: %s", rows[0]["key"], error)

    async def deliver(self, rows: Sequence[Row], now: datetime) -> None:
        """Send one notice (or digest) found due at `now`; record the outcome."""
        first = rows[0]
        address = IN_APP_ADDRESS
        if first["channel"] != Channel.IN_APP:  # stored already: no address to look up
            async with self.pool.acquire() as conn:
                address = await reads.address_of(
                    conn, first["contract_id"], first["person_id"], first["channel"]
                )
        outgoing = outgoing_of(rows)
        refs = [ref_of(r) for r in rows]
        outcomes: list[Outcome]
        try:
            async with asyncio.timeout(self.settings.send_deadline_seconds):
                await self.send(first["channel"], address, outgoing)
        except Exception as error:
            # Whatever went wrong is recorded and retried: a notice is never stuck unrecorded.
            reason = failure_reason(error)
            attempt = max(await self._attempts(rows)) + 1
            delay = retry_delay(
                attempt, self.settings.backoff_base_seconds, self.settings.backoff_max_seconds
            )
            outcomes = [
                Failed(r, reason, address, now, delay, self.settings.max_attempts) for r in refs
            ]
        else:
            digest = outgoing.key if len(rows) > 1 or first["not_before"] is not None else ""
            outcomes = [Delivered(r, address, digest) for r in refs]
        if self.settings.record_each_notice:
            await self._record(outcomes, first["source_event_id"])  # one save each, as before
        else:
            await self._outcomes.record(outcomes)

    async def _attempts(self, rows: Sequence[Row]) -> list[int]:
        async with self.pool.acquire() as conn:
            found = await conn.fetch(
                "SELECT attempts FROM notices WHERE notice_id = ANY($1::uuid[])",
                [r["notice_id"] for r in rows],
            )
        return [r["attempts"] for r in found] or [0]

    async def _record(self, outcomes: Sequence[Outcome], causation_id: str = "") -> None:
        await self.actor.run(self.actor.app.record_outcomes, outcomes, causation_id=causation_id)

    async def send(self, channel: str, address: str, outgoing: Outgoing) -> None:
        if channel == Channel.IN_APP:
            return  # stored already: the API lists it once it is recorded as delivered
        if channel == Channel.EMAIL:
            await smtp.send(self.settings, address, outgoing)
        elif channel == Channel.WEBHOOK:
            secret = self.settings.secret_for(outgoing.contract_id)
            allowed = self.settings.webhook_allowed_networks
            await webhook.send(self.http, address, outgoing, secret, int(time.time()), allowed)
        else:
            raise DeliveryFailed(f"no channel {channel!r} for {outgoing.person_id}")

    async def run(self) -> None:
        try:
            await self._loop.run()
        finally:
            await self._finish_sends()

    async def _finish_sends(self) -> None:
        """Stopping: the sends under way get STOP_GRACE_SECONDS to end and be recorded, so a
        restart or a rolling deploy does not send them again. One cut short is not recorded
        and goes again once its claim expires (with the same idempotency key), as after a
        crash."""
        sending = list(self._sending)
        if not sending:
            return
        log.info(
            "notifications delivery: stopping; %d send(s) under way get %.0f s to finish",
            len(sending), STOP_GRACE_SECONDS,
        )  # fmt: skip
        try:
            _, unfinished = await asyncio.wait(sending, timeout=STOP_GRACE_SECONDS)
        finally:  # also when the stop itself is cut short
            for task in sending:
                task.cancel()
            await asyncio.gather(*sending, return_exceptions=True)
        if unfinished:
            log.info("notifications delivery: %d send(s) cut short", len(unfinished))
