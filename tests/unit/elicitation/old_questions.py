"""Questions stored the way Accord stored them before each question had its own aggregate: on
the contract's stream, as the stored events that code wrote (topic and JSON, byte for byte in
shape), inserted straight into the store so that no code of today writes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from services.elicitation.application import Elicitation

ASKED_TOPIC = "services.elicitation.contract:Contract.QuestionAsked"
ANSWERED_TOPIC = "services.elicitation.contract:Contract.QuestionAnswered"


def _stored(contract_id: UUID, version: int, topic: str, fields: dict[str, Any]) -> StoredEvent:
    by = fields.get("asked_by") or fields["recorded_by"]
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": datetime.now(UTC).isoformat()},
        "contract_id": {"_type_": "uuid_hex", "_data_": contract_id.hex},
        **fields,
        "_meta": {
            "actor_id": by,
            "actor_role": "provider_account_manager",
            "correlation_id": str(uuid4()),
            "causation_id": "",
            "traceparent": "",
            "contract_id": str(contract_id),
        },
    }
    return StoredEvent(
        originator_id=contract_id,
        originator_version=version,
        topic=topic,
        state=json.dumps(state).encode(),
    )


def asked_the_old_way(
    app: Elicitation,
    contract_id: UUID,
    *,
    asked_of: str,
    asked_by: str,
    text: str = "What happens at peak?",
    answer: str | None = None,
) -> UUID:
    """A question (answered by the person asked, if `answer`) on the contract's own stream."""
    question_id = uuid4()
    version = app.get_contract(contract_id).version
    question = {"_type_": "uuid_hex", "_data_": question_id.hex}
    events = [
        _stored(contract_id, version + 1, ASKED_TOPIC, {
            "question_id": question, "asked_of": asked_of, "business_area": "Ops",
            "text": text, "asked_by": asked_by,
        }),
    ]  # fmt: skip
    if answer is not None:
        events.append(
            _stored(contract_id, version + 2, ANSWERED_TOPIC, {
                "question_id": question, "answer": answer, "answered_by": asked_of,
                "recorded_by": asked_of,
            })
        )  # fmt: skip
    app.recorder.insert_events(events)
    return question_id
