"""The notifications service's own knobs: `ACCORD_NOTIFY_*` variables."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, IPvAnyNetwork
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    """How notices are sent, retried, batched into digests and reminded; read from the env."""

    model_config = SettingsConfigDict(env_prefix="ACCORD_NOTIFY_", extra="ignore")

    # Empty means no SMTP server: nobody defaults to email, and email notices fail with a reason.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "Accord <accord@localhost>"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    # Signs every webhook body; a contract may have its own (JSON object: contract id -> secret).
    webhook_secret: str = "accord-development-webhook-secret-change-me"
    webhook_secrets: dict[str, str] = Field(default_factory=dict)
    webhook_timeout_seconds: float = 10.0
    # Webhooks reach public addresses, and private ones only inside these networks (JSON list
    # of CIDRs, e.g. ["10.20.0.0/16", "127.0.0.1/32"]): see channels/destinations.py.
    webhook_allowed_networks: list[IPvAnyNetwork] = Field(default_factory=list)
    # A notice that failed this many times is dead-lettered: recorded, and no longer retried.
    max_attempts: int = Field(default=6, ge=1)
    # Retry n waits about backoff_base * 2^(n-1) seconds (at most backoff_max), plus jitter.
    backoff_base_seconds: float = Field(default=30.0, gt=0)
    backoff_max_seconds: float = Field(default=3600.0, gt=0)
    # The hour of the day (UTC) when daily digests go out.
    digest_hour: int = Field(default=8, ge=0, le=23)
    # How often the scheduler looks for due reminders, and the delivery worker for due notices.
    scheduler_interval_seconds: float = Field(default=5.0, gt=0)
    delivery_interval_seconds: float = Field(default=1.0, gt=0)
    # Default reminder cadence of an undecided obligation (ISO 8601 durations, e.g. P3D, PT2S).
    reminder_every: timedelta = timedelta(days=3)
    reminder_before_due: timedelta = timedelta(days=1)
    # Sends at once; a slow receiver holds one slot, never the others. Notices are claimed
    # only for free slots, at most delivery_batch_size at a time (and a digest's rest with it).
    delivery_concurrency: int = Field(default=8, ge=1)
    delivery_batch_size: int = Field(default=50, ge=1)
    # Each notice an aggregate of its own, each outcome saved on its own, as before v2 (two
    # or more events and inserts per notice): kept to measure against and to test that such
    # records still work. Off: one NoticeSet per source event, outcomes saved together.
    record_each_notice: bool = False
    # The contract view and the ledger apply a batch of events together, and planning reads
    # a contract once per batch. Off: each event on its own, everything read for each, as
    # before (kept to measure against: bench/downstream_cost.py).
    batched: bool = True
    # Once woken, the ledger, the dispatcher and the delivery worker wait this long for more to
    # take in the same batch (nobody waits on them for an answer); 0: at once.
    linger_ms: int = Field(default=200, ge=0)

    @property
    def linger(self) -> float:
        return self.linger_ms / 1000

    def secret_for(self, contract_id: str) -> str:
        """The contract's own webhook secret, or the global one."""
        return self.webhook_secrets.get(contract_id, self.webhook_secret)

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def send_deadline_seconds(self) -> float:
        """The longest one send may take, whatever its channel."""
        return max(self.webhook_timeout_seconds, self.smtp_timeout_seconds) + 2

    @property
    def claim_seconds(self) -> float:
        """How long a claimed notice is left to its worker: past any send's deadline, so two
        workers never send it at once; after a crash, what was in flight is retried then."""
        return self.send_deadline_seconds + 3
