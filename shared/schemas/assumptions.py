"""Published assumptions (elicitation, topic accord.elicitation.v1): what the provider assumes
on a contract without having it confirmed, who recorded it and why."""

from __future__ import annotations

from uuid import UUID

from shared.schemas.registry import EventContract, contract


@contract(
    "elicitation",
    "AssumptionRecorded",
    example={
        "contract_id": "6f1c2b9e-4d3a-4f5e-9a7b-1c2d3e4f5a6b",
        "assumption_id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
        "text": "Stores keep their current till hardware until 2028",
        "why": "The availability target was costed on the present fleet",
        "recorded_by": "sam.ortiz@northgate.example",
    },
)
class AssumptionRecordedV1(EventContract):
    """The provider recorded an assumption its delivery rests on, with why."""

    contract_id: UUID
    assumption_id: UUID
    text: str
    why: str
    recorded_by: str
