"""One typed settings object, read from the environment, with the embedded defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# What the gateway allows a service beyond its longest wait for its views: the request's own
# work, under load.
ANSWER_MARGIN_SECONDS = 5.0


class Settings(BaseSettings):
    """Every knob of an Accord process; `ACCORD_*` variables, plus the standard ones."""

    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore")

    # Where the embedded default keeps its PostgreSQL data and other state.
    data_dir: Path = Path(".accord")
    # Empty means: the embedded PostgreSQL server (pgserver) under data_dir.
    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    # Empty means: no Kafka, events flow through the in-process bus.
    kafka_bootstrap: str = ""
    # Prefix of every Kafka client id (then the service or consumer group): tells deployments apart.
    kafka_client_id: str = "accord"
    # A cluster that asks for TLS and/or credentials (shared/bus_kafka.py, KafkaAccess).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    # The CA bundle the brokers' certificates chain to; empty: the system's.
    kafka_ssl_cafile: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Development signing secret for HS256 tokens; production uses a public key or JWKS.
    jwt_secret: str = "accord-development-secret-change-me"
    jwt_public_key_file: Path | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str = "accord"
    jwt_audience: str = "accord"
    # Bounded pool for the synchronous eventsourcing calls, so they never block the loop.
    store_threads: int = 8
    # Which recorder stores events: Accord's (appends without a table lock, shared/recorder.py)
    # or the eventsourcing library's stock one, kept to compare and to fall back on.
    event_store: Literal["accord", "stock"] = "accord"
    # How many aggregates each service keeps loaded (the eventsourcing library's cache): a
    # command then reads only the events stored since (fast-forward) instead of replaying its
    # aggregate, and works on a copy. 0: none, every load replays the stored events (stock).
    aggregate_cache_size: int = Field(default=1000, ge=0)
    # Whether a cached aggregate is brought up to date from the store on every load (the
    # library's fast-forward: a read per load, and one load of an aggregate at a time), or kept
    # current by the service's own saves, which is right only where nothing else writes its
    # store. Unset: by its own saves under the in-process bus (the embedded default: one
    # process, one writer per store); from the store when services talk through Kafka, where
    # replicas write the same store.
    aggregate_cache_fastforward: bool | None = None
    relay_batch_size: int = 200
    # Under the in-process bus, a relay marks every this many messages which offset follows
    # which stored event, and after a restart publishes again from the last mark before every
    # consumer (shared/relay_marks.py) rather than the whole history; 0: from the start.
    relay_mark_every: int = Field(default=1000, ge=0)
    relay_idle_seconds: float = 0.2
    # A publish not acknowledged by then counts as failed: the producer is recreated.
    relay_publish_timeout_seconds: float = 30.0
    projection_batch_size: int = 500
    # Apply a consumed batch with grouped statements (shared/pending_writes.py); false: one event
    # at a time, each in a savepoint, the path a batch that fails together falls back on.
    projection_batched: bool = True
    # How long a service's own view waits, once a message came, for more to apply with it:
    # bigger batches while nobody reads it, for a request that reads the view cuts the wait
    # short (ProjectionRunner.hurry). The gateway's read models, which commands wait for,
    # never wait. 0: apply what came at once.
    projection_linger_ms: int = Field(default=200, ge=0)
    # A batch's group of at least this many rows of a plain insert (an append-only log's) is
    # loaded with COPY rather than executed row by row (shared/pending_writes.py); 0: never.
    projection_copy_rows: int = Field(default=64, ge=0)
    # The embedded default's in-process bus drops the messages every consumer has committed
    # once at least this many have piled up (shared/bus_memory.py): a run's memory follows its
    # slowest consumer, not the whole history.
    bus_forget_after: int = Field(default=10_000, ge=1)
    # The same for a view only the service's own scheduler reads (the deadline timers, polled
    # every few seconds anyway): longer, for bigger batches.
    scheduler_view_linger_ms: int = Field(default=200, ge=0)
    # How `accord replay --source store` decodes stored events: orjson straight from the rows
    # (services/gateway/stored_events.py), or the library's transcoder, kept to compare.
    replay_decode: Literal["accord", "stock"] = "accord"
    # How many projection runners `accord replay` splits each batch it applies itself between,
    # by contract, each on its own connection (services/gateway/replay.py, Runners): a rebuild
    # in one process, and what is stored while a split load runs (each loading process has
    # one runner); 1: one runner, as live.
    replay_runners: int = Field(default=2, ge=1, le=16)
    # How many processes `accord replay` loads what the stores (or the topics) hold with, each
    # the events of its share of the contracts (services/gateway/replay_shards.py); 1: itself.
    replay_processes: int = Field(default=2, ge=1, le=16)
    # How long a projection remembers the ids of the events it applied, to drop a republished
    # one. Only an outbox relay that crashed mid-batch republishes, and it does so when it
    # restarts: keep this longer than any relay could stay down.
    projection_dedupe_days: int = Field(default=30, ge=1)
    # A consumer further behind than this many messages reports itself not ready.
    ready_max_lag: int = 10_000
    # Where the gateway forwards commands; empty means this process's own server (embedded).
    elicitation_url: str = ""
    ranking_url: str = ""
    notifications_url: str = ""
    # Development conveniences, off in production: the GraphiQL page and schema introspection.
    graphql_ide: bool = True
    # Where GraphiQL's browser assets were fetched to (`python -m accord.infra.graphiql`): the
    # checkout's, wherever Accord is started from; without them the page loads them from the CDN.
    graphiql_assets: Path = Path(__file__).resolve().parents[1] / ".cache" / "graphiql"
    graphql_introspection: bool = True
    # Who runs GraphQL operations: the gateway's own pipeline and executor (faster), or stock
    # strawberry under the same policy, which the tests and bench/gateway_throughput.py hold
    # the gateway's to: both give the same answers.
    graphql_engine: Literal["accord", "stock"] = "accord"
    # How the embedded default's gateway calls the services mounted beside it: their app
    # handed the request directly, or httpx's client through its ASGI transport (the stock
    # way, about five times the CPU per call: bench/in_process_calls.py).
    in_process_calls: Literal["direct", "httpx"] = "direct"
    # Net allocations between collections of the interpreter's youngest generation (each older
    # one after 20 of the one below); 0 keeps CPython's thresholds (shared/collector.py).
    gc_threshold: int = Field(default=20_000, ge=0)
    # How long a mutation waits for the read model to show its own change.
    read_your_writes_seconds: float = 3.0
    # How long a service waits for its own views to apply what it stored before a request
    # that reads them (the agreed set before a baseline, the suspect links before a
    # refinement), or read_your_writes_seconds if longer; then it refuses, CATCHING_UP.
    view_wait_seconds: float = Field(default=10.0, gt=0)
    # How long `accord serve` waits for its database and Kafka to answer before it says which
    # does not and exits (a process started before them, as in a cluster, then just starts).
    startup_wait_seconds: float = Field(default=30.0, ge=0)
    # Signing a baseline needs a fresh authentication: a token issued at most this long ago
    # (21 CFR Part 11 11.200: the signer proves who they are at the moment of signing).
    signature_max_age_seconds: int = Field(default=300, ge=1)
    # Subjects (token `sub`) who may appoint and remove anyone on any contract, an auditor at
    # once included: comma-separated, e.g. `ACCORD_ADMINISTRATORS=it-admin,compliance-admin`.
    administrators: Annotated[frozenset[str], NoDecode] = frozenset()
    # The largest request body a service reads; past it, 413 BODY_TOO_LARGE. In the embedded
    # default the services share the gateway's port, so this stays near the gateway's own limit.
    service_max_body_bytes: int = Field(default=131_072, ge=1024)
    # The Ed25519 key that signs audit checkpoints (shared/audit/keys.py): PEM (PKCS#8) text,
    # or a file holding it. Neither: a development key generated under data_dir.
    audit_signing_key: SecretStr = SecretStr("")
    audit_signing_key_file: Path | None = None
    # How often each service's log is signed into a checkpoint and published on accord.audit.v1
    # when it moved (shared/audit/schedule.py); 0 turns the schedule off.
    audit_checkpoint_minutes: float = Field(default=15.0, ge=0)
    # Deadline warnings (shared/deadlines) for a contract that set no policy of its own: the
    # thresholds, in percent of each promise's time (JSON, e.g. `[50, 75]`), and how long a
    # disclosed risk may wait for a client's acknowledgement.
    deadline_thresholds: list[Annotated[int, Field(gt=0, lt=100)]] = [50, 75]
    risk_acknowledgement_hours: float = Field(default=72.0, gt=0)
    # Accord's own log lines (refusals are one line at INFO); other libraries log warnings only.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @property
    def view_wait(self) -> float:
        """How long a service waits for its own views before it refuses (view_wait_seconds)."""
        return max(self.view_wait_seconds, self.read_your_writes_seconds)

    @property
    def answer_seconds(self) -> float:
        """How long the gateway waits for a service's answer: past the longest a service waits
        before it answers, so the caller hears its refusal (CATCHING_UP), not a time-out."""
        return self.view_wait + ANSWER_MARGIN_SECONDS

    def service_url(self, service: str) -> str:
        """The base URL of a service's HTTP API."""
        named: str = getattr(self, f"{service}_url", "")
        return named or f"http://{self.host}:{self.port}/{service}"

    @field_validator("administrators", mode="before")
    @classmethod
    def _administrators_from_text(cls, value: object) -> object:
        """The environment names administrators as comma-separated text."""
        if isinstance(value, str):
            return frozenset(name.strip() for name in value.split(",") if name.strip())
        return value

    @model_validator(mode="after")
    def _database_from_postgres_variables(self) -> Settings:
        """Honour the conventional POSTGRES_* variables when DATABASE_URL is absent."""
        if not self.database_url:
            self.database_url = url_from_postgres_variables(os.environ)
        return self


class InvalidSettings(ValueError):
    """The environment gives a setting a value Accord cannot take: says which, and why."""


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once; InvalidSettings names each variable wrong."""
    try:
        return Settings()
    except ValidationError as error:
        raise InvalidSettings(_wrong_variables(error)) from None


def _wrong_variables(error: ValidationError) -> str:
    """`VARIABLE='value': why`, for each setting the environment got wrong."""
    described = []
    for problem in error.errors(include_url=False):
        field = str(problem["loc"][0]) if problem["loc"] else ""
        info = Settings.model_fields.get(field)
        alias = info.validation_alias if info else None
        variable = alias if isinstance(alias, str) else f"ACCORD_{field.upper()}"
        described.append(f"{variable}={problem.get('input')!r}: {problem['msg']}")
    return "; ".join(described)


def postgres_env(database_url: str, schema: str) -> dict[str, str]:
    """The eventsourcing library's POSTGRES_* keys for a libpq URL and a schema."""
    parts = urlsplit(database_url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.get("host") or parts.hostname or "127.0.0.1"
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or query.get("dbname", "postgres"),
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(parts.port or query.get("port") or 5432),
        "POSTGRES_USER": unquote(parts.username or query.get("user", "postgres")),
        "POSTGRES_PASSWORD": unquote(parts.password or query.get("password", "")),
        "POSTGRES_SCHEMA": schema,
        "CREATE_TABLE": "y",
    }


def url_from_postgres_variables(environ: Mapping[str, str]) -> str:
    """A libpq URL from POSTGRES_HOST/PORT/USER/PASSWORD/DB, or "" when no host is named."""
    host = environ.get("POSTGRES_HOST", "")
    if not host:
        return ""
    user = quote(environ.get("POSTGRES_USER", "postgres"), safe="")
    password = quote(environ.get("POSTGRES_PASSWORD", ""), safe="")
    port = environ.get("POSTGRES_PORT", "5432")
    dbname = environ.get("POSTGRES_DB", "postgres")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    if host.startswith("/"):
        return f"postgresql://{credentials}/{dbname}?host={quote(host)}&port={port}"
    return f"postgresql://{credentials}{host}:{port}/{dbname}"
