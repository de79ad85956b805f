"""The projector: every topic, through the kernel's projection runner, into the read models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import asyncpg

from services.gateway.projections import dispatch
from shared.bus import Bus
from shared.projection import BatchResult, ProjectionRunner
from shared.schemas.registry import topic_for
from shared.settings import Settings

PROJECTION = "gateway-readmodel"
GROUP = "accord-projector"
# NOTIFY'd with the projection's name after each committed batch: the gateway LISTENs on it.
NOTIFY_CHANNEL = "accord_readmodel"
# Every service's topic; notifications has no events yet, but its topic is read all the same.
TOPICS = tuple(topic_for(service) for service in ("elicitation", "ranking", "notifications"))


def build_projector(
    settings: Settings,
    bus: Bus,
    pool: asyncpg.Pool,
    *,
    on_applied: Callable[[BatchResult], None] | None = None,
) -> ProjectionRunner:
    """The runner that keeps the read models in `pool`'s schema, as group accord-projector;
    `on_applied` is told each batch it committed."""
    return ProjectionRunner(
        PROJECTION,
        bus.consumer(TOPICS, GROUP),
        pool,
        dispatch.apply,
        batch_size=settings.projection_batch_size,
        notify_channel=NOTIFY_CHANNEL,
        remember=timedelta(days=settings.projection_dedupe_days),
        batching=dispatch.BATCHING if settings.projection_batched else None,
        copy_from=settings.projection_copy_rows,
        on_applied=on_applied,
    )
