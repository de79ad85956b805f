"""Driving the real elicitation service's commands (its application, on PostgreSQL and Kafka)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import asyncpg
import httpx

from services.elicitation.application import Elicitation as ElicitationApp
from services.notifications import tables
from services.notifications.contract_view import TOPICS
from shared.auth import mint_token
from shared.bus import Message, Partition
from shared.bus_kafka import KafkaBus
from shared.bus_memory import InProcessBus
from shared.database import create_pool
from shared.eventstore import ensure_schema
from shared.runtime import ServiceRuntime, build_runtime
from shared.settings import Settings
from tests.support.waiting import eventually


@asynccontextmanager
async def elicitation_on_kafka(settings: Settings) -> AsyncIterator[Elicitation]:
    """The elicitation service's application, publishing to the Kafka `settings` name."""
    bus = KafkaBus(settings.kafka_bootstrap)
    runtime = await build_runtime("elicitation", ElicitationApp, settings, bus.publisher("elicit"))
    await runtime.start()
    try:
        yield Elicitation(runtime)
    finally:
        await runtime.stop()


class Elicitation:
    """Runs elicitation commands as a given person."""

    def __init__(self, runtime: ServiceRuntime[ElicitationApp]) -> None:
        self.runtime = runtime
        self.app = runtime.app

    async def run(self, command: str, *args: Any, by: str, **kwargs: Any) -> Any:
        method = getattr(self.app, command)
        return await self.runtime.execute(
            method, *args, by=by, actor_id=by, actor_role="test", **kwargs
        )

    async def contract(self, account_manager: str, email: str) -> str:
        opened = await self.run(
            "open_contract", by=account_manager, client_organisation="Northwind Retail",
            provider_organisation="Contoso Services", title="Managed IT operations",
            starts_on="2026-12-01", name="Ann Manager", role="provider_account_manager",
            email=email,
        )  # fmt: skip
        return str(opened.id)

    async def join(self, contract: str, by: str, person: str, role: str, email: str = "") -> None:
        await self.run(
            "join_contract", contract, by=by, person_id=person, name=person.title(),
            role=role, email=email,
        )  # fmt: skip


def unique(name: str) -> str:
    """A person id no other test uses, so what arrives can be told apart."""
    return f"{name}-{uuid4().hex[:8]}"


class Notify:
    """Speaks to the notifications service over HTTP as a given person."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    def auth(self, person: str) -> dict[str, str]:
        return {"authorization": f"Bearer {mint_token(self.settings, person)}"}

    async def get(self, person: str, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, headers=self.auth(person), params=params)

    async def post(self, person: str, path: str, body: Any) -> httpx.Response:
        return await self.http.post(path, json=body, headers=self.auth(person))

    async def knows(self, contract: str, person: str, count: int) -> None:
        """Wait until the service's view has the contract with `count` people on it."""

        async def ready() -> bool:
            answer = await self.get(person, f"/contracts/{contract}/preferences")
            return answer.status_code == 200 and len(answer.json()["preferences"]) >= count

        await eventually(ready)

    async def prefer(self, contract: str, person: str, **choice: Any) -> None:
        answer = await self.post(person, f"/contracts/{contract}/preferences", choice)
        assert answer.status_code == 200, answer.text

        async def applied() -> bool:
            shown = await self.get(person, f"/contracts/{contract}/preferences")
            mine = [p for p in shown.json()["preferences"] if p["person_id"] == person]
            return bool(mine) and mine[0]["channel"] == choice["channel"] and not mine[0]["default"]

        await eventually(applied)

    async def deliveries(self, contract: str, viewer: str) -> list[dict[str, Any]]:
        answer = await self.get(viewer, f"/contracts/{contract}/deliveries")
        assert answer.status_code == 200, answer.text
        notices: list[dict[str, Any]] = answer.json()["notices"]
        return notices


async def published(bus: InProcessBus) -> list[Message]:
    """Everything the in-process bus holds on the topics the notifications view reads."""
    consumer = bus.consumer(TOPICS)

    async def from_zero(partitions: Any) -> dict[Partition, int]:
        return {p: 0 for p in partitions}

    await consumer.start(from_zero)
    messages = await consumer.fetch(timeout=1, max_records=100_000)
    await consumer.stop()
    return messages


@asynccontextmanager
async def view_pool(settings: Settings, schema: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a schema of its own with the notifications service's tables; dropped after."""
    ensure_schema(settings.database_url, schema)
    pool = await create_pool(settings.database_url, schema, max_size=2)
    try:
        await pool.execute(tables.SCHEMA)
        yield pool
    finally:
        await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()
