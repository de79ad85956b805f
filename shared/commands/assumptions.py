"""Assumptions (the A of a contract's RAID view): what the provider takes to be true without
having it confirmed, recorded with why, so that a wrong one is seen for what it is."""

from __future__ import annotations

from pydantic import Field

from shared.commands.declaration import Body, Command
from shared.values import LongText

SERVICE = "elicitation"


class RecordAssumption(Body):
    text: LongText = Field(description="What the provider assumes, as it would say it.")
    why: LongText = Field(description="Why it is assumed (what it rests on, what it allows).")


RECORD_ASSUMPTION = Command(
    "record_assumption", SERVICE, "/contracts/{contract_id}/assumptions", RecordAssumption,
    "Record an assumption the provider's delivery rests on, with why (the provider's team).",
    events=("AssumptionRecorded",), creates=True,
)  # fmt: skip

COMMANDS: tuple[Command[Body], ...] = (RECORD_ASSUMPTION,)
