"""A real Apache Kafka broker (KRaft, single node) from Maven Central jars on the local JVM."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from accord.infra._process import free_port, log_tail, port_open, spawn, stop_group

REPO_ROOT = Path(__file__).resolve().parents[2]
POM = REPO_ROOT / "scripts" / "kafka" / "pom.xml"
CACHE = REPO_ROOT / ".cache"
LIB_DIR = CACHE / "kafka" / "lib"
# Written only after Maven succeeded, holding the POM's hash: a half-copied lib dir or an
# edited POM (new Kafka version) both trigger a fresh resolution.
MARKER = LIB_DIR / ".resolved"

# The broker's SASL listeners ask for credentials (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512),
# for the tests of a secured cluster; these are their only user's.
SASL_USERNAME = "accord"
SASL_PASSWORD = "accord-test-secret"
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")

READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0

LOG4J2_PROPERTIES = """\
status = warn
# The broker logs its own shutdown; log4j's hook would stop the file appender first.
shutdownHook = disable
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
# Per-request and per-partition chatter drowns the lines that explain a failure.
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.state.name = state.change.logger
logger.state.level = warn
logger.log.name = kafka.log
logger.log.level = warn
logger.clients.name = org.apache.kafka.clients
logger.clients.level = warn
"""


def ensure_jars() -> Path:
    """Resolve the broker jars into the cache with Maven, once; return the lib dir."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    if MARKER.exists() and MARKER.read_text().strip() == digest:
        return LIB_DIR
    shutil.rmtree(LIB_DIR, ignore_errors=True)
    command = [
        "mvn", "-q", "-B", "-Dstyle.color=never", "-f", str(POM),
        "dependency:copy-dependencies", "-DincludeScope=runtime",
        f"-DoutputDirectory={LIB_DIR}", f"-Dmaven.repo.local={CACHE / 'm2'}",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"resolving Kafka jars failed:\n{result.stdout}\n{result.stderr}")
    MARKER.write_text(digest)
    return LIB_DIR


@dataclass
class KafkaBroker:
    """A running single-node broker; stop it, or use it as a context manager."""

    bootstrap: str
    workdir: Path
    process: subprocess.Popen[bytes]
    # The same broker, through the listener that asks for SASL_USERNAME and SASL_PASSWORD,
    # and through the one that speaks TLS with a certificate that `ssl_cafile` verifies.
    sasl_bootstrap: str = ""
    ssl_bootstrap: str = ""
    ssl_cafile: str = ""
    # Credentials over TLS, as managed clusters ask.
    sasl_ssl_bootstrap: str = ""

    def stop(self) -> None:
        """Shut the broker down cleanly, killing it if it hangs."""
        stop_group(self.process, STOP_TIMEOUT_S)

    def restart(self) -> None:
        """Stop and start the same broker (same ports, same data), as in a broker blip."""
        self.stop()
        self.process = _launch(ensure_jars(), self.workdir, self.workdir / "server.properties")
        _wait_ready(self)

    def __enter__(self) -> KafkaBroker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start(workdir: Path) -> KafkaBroker:
    """Format storage under workdir, launch the broker and wait until it answers."""
    lib = ensure_jars()
    workdir.mkdir(parents=True, exist_ok=True)
    ports = Ports(free_port(), free_port(), free_port(), free_port(), free_port())
    config = _write_config(workdir, ports)
    _format_storage(lib, workdir, config)
    process = _launch(lib, workdir, config)
    broker = KafkaBroker(
        bootstrap=f"127.0.0.1:{ports.plain}", workdir=workdir, process=process,
        sasl_bootstrap=f"127.0.0.1:{ports.sasl}", ssl_bootstrap=f"127.0.0.1:{ports.ssl}",
        ssl_cafile=str(workdir / CA_FILE), sasl_ssl_bootstrap=f"127.0.0.1:{ports.sasl_ssl}",
    )  # fmt: skip
    try:
        _wait_ready(broker)
        _prepare(broker)
    except BaseException:
        broker.stop()
        raise
    return broker


# A topic's partitions, made by default or here (three: consumer groups of tests and benches
# spread over them).
PARTITIONS = 3
# Whose topics docker-compose's kafka-init makes before any Accord process starts: each
# service's and the audit one (with the broker's unlimited retention).
PUBLISHERS = ("elicitation", "ranking", "notifications", "audit")
# Any group: asking for its coordinator makes the broker create its offsets topic.
_PROBE_GROUP = "accord-infra"


def _prepare(broker: KafkaBroker) -> None:
    """Make Accord's topics, and wait until consumer groups have a coordinator: processes
    started on a fresh broker otherwise log errors until their topics and the offsets topic
    exist (every consumer "Topic ... not found", "Marking the coordinator dead")."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not asyncio.run(_prepared(broker.bootstrap)):
        if time.monotonic() > deadline:
            _fail(broker, f"no group coordinator within {READY_TIMEOUT_S:.0f} s")
        time.sleep(0.2)


async def _prepared(bootstrap: str) -> bool:
    """Create the topics that are missing; answer whether groups have a coordinator."""
    # Here, not at the top: the CLI imports this module, and the event contracts are heavy.
    from shared.schemas.registry import topic_for

    topics = {topic_for(name) for name in PUBLISHERS}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        missing = topics - set(await admin.list_topics())
        if missing:
            await admin.create_topics(
                [NewTopic(t, PARTITIONS, replication_factor=1) for t in sorted(missing)]
            )
        await admin.find_coordinator(_PROBE_GROUP)
        return True
    except KafkaError:  # the coordinator not yet there (a topic made meanwhile is answered)
        return False
    finally:
        await admin.close()


class Ports(NamedTuple):
    plain: int
    controller: int
    sasl: int
    ssl: int
    sasl_ssl: int


# The TLS listener's key and self-signed certificate (Kafka reads PEM keystores), and that
# certificate alone, which clients trust as their CA.
KEYSTORE_FILE = "broker-keystore.pem"
CA_FILE = "broker-ca.pem"


def server_properties(workdir: Path, ports: Ports) -> str:
    """Render a KRaft config for one combined broker+controller node: a plain listener, one
    that asks for SASL credentials (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512), one that speaks
    TLS, and one that asks for the credentials over TLS."""
    jaas = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required"
        f' user_{SASL_USERNAME}="{SASL_PASSWORD}";'
    )
    listeners = {
        "PLAINTEXT": ports.plain, "SASL_PLAINTEXT": ports.sasl, "SSL": ports.ssl,
        "SASL_SSL": ports.sasl_ssl,
    }  # fmt: skip
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    keystore = str(workdir / KEYSTORE_FILE)
    advertised = ",".join(f"{name}://127.0.0.1:{port}" for name, port in listeners.items())
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "listeners": f"{advertised},CONTROLLER://127.0.0.1:{ports.controller}",
        "advertised.listeners": advertised,
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,"
        "SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL",
        "sasl.enabled.mechanisms": ",".join(("PLAIN", *SCRAM_MECHANISMS)),
        **{
            f"listener.name.{listener}.{mechanism.lower()}.sasl.jaas.config": config
            for listener in ("sasl_plaintext", "sasl_ssl")
            for mechanism, config in (
                ("PLAIN", jaas),
                *((name, scram) for name in SCRAM_MECHANISMS),
            )
        },
        **{
            f"listener.name.{listener}.ssl.keystore.{key}": value
            for listener in ("ssl", "sasl_ssl")
            for key, value in (("type", "PEM"), ("location", keystore))
        },
        "controller.quorum.voters": f"1@127.0.0.1:{ports.controller}",
        "log.dirs": str(workdir / "data"),
        # One node: every internal topic must live with a single replica.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Tests join groups constantly; the default 3 s delay only slows them down.
        "group.initial.rebalance.delay.ms": "0",
        "num.partitions": str(PARTITIONS),
        "auto.create.topics.enable": "true",
        # Auditors replay from the topics, so they keep everything.
        "log.retention.ms": "-1",
        "log.retention.bytes": "-1",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def self_signed(names: list[x509.GeneralName], common_name: str, days: int) -> tuple[bytes, bytes]:
    """A self-signed certificate for `names` (its own CA) and its key, both PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, private


def write_tls(workdir: Path) -> None:
    """A key and a self-signed certificate for 127.0.0.1, good for a week."""
    address = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    pem, private = self_signed([address], "accord test broker", days=7)
    (workdir / KEYSTORE_FILE).write_bytes(private + pem)
    (workdir / CA_FILE).write_bytes(pem)


def _write_config(workdir: Path, ports: Ports) -> Path:
    """Write server.properties, the TLS files and the log4j2 config into workdir."""
    (workdir / "log4j2.properties").write_text(LOG4J2_PROPERTIES.format(log=workdir / "server.log"))
    write_tls(workdir)
    config = workdir / "server.properties"
    config.write_text(server_properties(workdir, ports))
    return config


def _java(lib: Path, workdir: Path, *options: str) -> list[str]:
    """Return the JVM command prefix with the Kafka classpath and our log config."""
    log_config = workdir / "log4j2.properties"
    return ["java", *options, f"-Dlog4j2.configurationFile={log_config}", "-cp", f"{lib}/*"]


def _cluster_id() -> str:
    """Return a random cluster id in Kafka's format (URL-safe base64 of 16 bytes)."""
    # Same as `StorageTool random-uuid`, without paying a second JVM start.
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _format_storage(lib: Path, workdir: Path, config: Path) -> None:
    """Format the KRaft log dir, unless a previous start already did."""
    if (workdir / "data" / "meta.properties").exists():
        return
    # Static controller.quorum.voters: a plain format, `--standalone` is for dynamic quorums.
    # The SASL listener's SCRAM user lives in the cluster metadata, written at format time.
    scram = [
        option
        for mechanism in SCRAM_MECHANISMS
        for option in (
            "--add-scram",
            f"{mechanism}=[name={SASL_USERNAME},password={SASL_PASSWORD}]",
        )
    ]
    command = [*_java(lib, workdir), "kafka.tools.StorageTool", "format",
               # One argument: an id may start with "-", which argparse would read as an option.
               f"--cluster-id={_cluster_id()}", "-c", str(config), *scram]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"formatting Kafka storage failed:\n{result.stdout}\n{result.stderr}")


def _launch(lib: Path, workdir: Path, config: Path) -> subprocess.Popen[bytes]:
    """Start the broker JVM, its console output into workdir."""
    command = [*_java(lib, workdir, "-Xms256m", "-Xmx512m"), "kafka.Kafka", str(config)]
    return spawn(command, workdir / "kafka.out", cwd=workdir)


def _wait_ready(broker: KafkaBroker) -> None:
    """Poll the broker with a metadata request until it answers or time runs out."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if broker.process.poll() is not None:
            _fail(broker, f"the broker exited with code {broker.process.returncode}")
        if asyncio.run(_answers(broker.bootstrap)):
            return
        time.sleep(0.5)
    _fail(broker, f"the broker did not answer within {READY_TIMEOUT_S:.0f} s")


async def _answers(bootstrap: str) -> bool:
    """Return whether the broker serves cluster metadata."""
    if not port_open(bootstrap):
        # aiokafka logs every refused connection; ask it only once something listens.
        return False
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        await admin.describe_cluster()
        return True
    except Exception:  # any failure just means "not yet"
        return False
    finally:
        await admin.close()


def _fail(broker: KafkaBroker, reason: str) -> None:
    """Raise with the reason and the tail of the broker's logs."""
    tails = "\n".join(
        f"--- {name} ---\n{log_tail(broker.workdir / name)}" for name in ("kafka.out", "server.log")
    )
    raise RuntimeError(f"kafka at {broker.bootstrap}: {reason}\n{tails}")
