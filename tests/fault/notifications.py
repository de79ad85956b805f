"""The notifications service as a process of its own, for the tests that kill it."""

from __future__ import annotations

from pathlib import Path

from shared.settings import Settings
from tests.integration.notifications.service_process import ServiceProcess

WEBHOOK_SECRET = "fault-webhook-secret"
JWT = "notifications-fault-secret-of-32-bytes"


def notifications_process(settings: Settings, log: Path, **knobs: str) -> ServiceProcess:
    """The notifications service as `accord serve notifications` would run it, with the test's
    own ACCORD_NOTIFY_* knobs; its webhooks may reach the loopback, where receivers listen."""
    env = {
        "DATABASE_URL": settings.database_url,
        "ACCORD_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "ACCORD_JWT_SECRET": JWT,
        "ACCORD_NOTIFY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ACCORD_NOTIFY_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
        **{f"ACCORD_NOTIFY_{name.upper()}": value for name, value in knobs.items()},
    }
    return ServiceProcess(env, log)
