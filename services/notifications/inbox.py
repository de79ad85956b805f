"""The inbox: what the view asks of the application, written in the view's own transaction.

The view's handler runs inside the projection runner's transaction (asyncpg); the application
stores events through its own connection. Rather than write to both at once, the handler leaves
a row here, committed with the view and the consumed offsets; the dispatcher then runs each
row's command, whose deterministic ids make a second run change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from services.notifications.planner import NoticePlan
from services.notifications.policies import Trigger
from services.notifications.preferences import Channel
from shared.pending_writes import Statements

QUEUE = "queue"
SCHEDULE = "schedule"
CANCEL = "cancel"


async def put(conn: Statements, kind: str, payload: Mapping[str, Any], causation_id: str) -> None:
    await conn.execute(
        "INSERT INTO inbox (kind, payload, causation_id) VALUES ($1, $2::jsonb, $3)",
        kind,
        json.dumps(payload, default=str),
        causation_id,
    )


def encode_plan(plan: NoticePlan) -> dict[str, Any]:
    return {
        "contract_id": str(plan.contract_id),
        "source_event_id": plan.source_event_id,
        "trigger": plan.trigger.value,
        "person_id": plan.person_id,
        "channel": plan.channel.value,
        "subject": plan.subject,
        "text": plan.text,
        "data": dict(plan.data),
        "urgent": plan.urgent,
        "digest": plan.digest,
        "traceparent": plan.traceparent,
    }


def decode_plan(data: Mapping[str, Any]) -> NoticePlan:
    return NoticePlan(
        contract_id=UUID(data["contract_id"]),
        source_event_id=data["source_event_id"],
        trigger=Trigger(data["trigger"]),
        person_id=data["person_id"],
        channel=Channel(data["channel"]),
        subject=data["subject"],
        text=data["text"],
        data=data["data"],
        urgent=data["urgent"],
        digest=data["digest"],
        traceparent=data.get("traceparent", ""),  # a row put before plans carried it: none
    )
