"""Fixtures of the notifications integration tests: real Kafka, PostgreSQL, SMTP and HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from services.notifications.api import create_app
from services.notifications.application import Notifications
from services.notifications.settings import NotifySettings
from shared.bus_kafka import KafkaBus
from shared.eventstore import build_application
from shared.settings import Settings
from tests.integration.http_server import serving
from tests.integration.notifications.contract_story import (
    Elicitation,
    Notify,
    elicitation_on_kafka,
)
from tests.integration.notifications.mailbox import Mailbox
from tests.integration.notifications.receiver import Receiver

SECRET = "notifications-webhook-secret"


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret="notifications-integration-secret-32b",
    )


@pytest.fixture
def app(database_url: str) -> Iterator[Notifications]:
    """The notifications application alone, on the real database."""
    notifications = build_application(
        Notifications, "notifications", Settings(database_url=database_url)
    )
    yield notifications
    notifications.close()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    hooks = Receiver(SECRET)
    async with serving(hooks.app) as url:
        yield hooks, url


# Both ways of keeping the view and the ledger: a batch together, and each event on its own.
@pytest.fixture(params=[True, False], ids=["batched", "one-by-one"])
def notify_settings(mailbox: Mailbox, request: pytest.FixtureRequest) -> NotifySettings:
    return NotifySettings(
        batched=request.param,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_from="Accord <accord@contoso.example>",
        webhook_secret=SECRET,
        webhook_timeout_seconds=1.0,
        # The receivers of these tests listen on loopback, a private address.
        webhook_allowed_networks=["127.0.0.0/8"],
        smtp_timeout_seconds=5.0,
        max_attempts=3,
        backoff_base_seconds=0.2,
        backoff_max_seconds=1.0,
        delivery_interval_seconds=0.2,
        scheduler_interval_seconds=0.3,
    )


@pytest.fixture
async def elicitation(settings: Settings) -> AsyncIterator[Elicitation]:
    async with elicitation_on_kafka(settings) as elicitation:
        yield elicitation


@pytest.fixture
def notify_app(settings: Settings, notify_settings: NotifySettings) -> Starlette:
    """The notifications service's app (its state holds the workers, once `notify` serves it)."""
    return create_app(settings, KafkaBus(settings.kafka_bootstrap), notify_settings)


@pytest.fixture
async def notify(settings: Settings, notify_app: Starlette) -> AsyncIterator[Notify]:
    async with serving(notify_app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield Notify(http, settings)
