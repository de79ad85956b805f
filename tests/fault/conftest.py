"""Fixtures of the notifications fault tests: the service as a process of its own (to be
killed and started again) beside an in-process elicitation, on real Kafka and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.settings import Settings
from tests.fault.notifications import JWT
from tests.integration.notifications.contract_story import Elicitation, elicitation_on_kafka


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str) -> Settings:
    return Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap, jwt_secret=JWT)


@pytest.fixture
async def elicitation(settings: Settings) -> AsyncIterator[Elicitation]:
    async with elicitation_on_kafka(settings) as elicitation:
        yield elicitation
