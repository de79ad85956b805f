"""`accord infra run --brokers 2 -- <command>`, as `make test` types it: the command finds two
brokers that each take a message, the first one named as ACCORD_KAFKA_BOOTSTRAP, and both are
gone once the command has exited."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# Sends one message through each broker it was given, and says which they were.
COMMAND = """
import asyncio, json, os
from aiokafka import AIOKafkaProducer

async def main():
    brokers = json.loads(os.environ["ACCORD_TEST_KAFKA_BROKERS"])
    for broker in brokers:
        producer = AIOKafkaProducer(bootstrap_servers=broker["plain"])
        await producer.start()
        try:
            await producer.send_and_wait("accord.infracheck.v1", b"ping")
        finally:
            await producer.stop()
    print(json.dumps({"named": os.environ["ACCORD_KAFKA_BOOTSTRAP"], "brokers": brokers}))

asyncio.run(main())
"""


def answers(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((host, int(port))) == 0


def infra_run(brokers: int, script: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    """`accord infra run --brokers N -- python -c script`, which must succeed; what the script
    printed last, as JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "accord", "infra", "run", "--brokers", str(brokers), "--",
         sys.executable, "-c", script],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done, json.loads(done.stdout.strip().splitlines()[-1])


def test_each_of_two_brokers_takes_a_message_and_both_stop_with_the_command() -> None:
    done, told = infra_run(2, COMMAND)
    brokers = told["brokers"]
    assert len(brokers) == 2
    assert told["named"] == brokers[0]["plain"]
    every_listener = [b[name] for b in brokers for name in ("plain", "sasl", "ssl", "sasl_ssl")]
    assert len(set(every_listener)) == 8 and all(every_listener)
    assert done.stderr.count("kafka: stopped") == 2
    assert not any(answers(address) for address in every_listener)


# Starts `accord serve projector` on the fresh broker and database `accord infra run` gave it,
# waits until its consumer group is stable with the process as a member, stops it, and says
# what its log held at WARNING and above, and the partitions of Accord's topics.
SERVE = """
import asyncio, json, os, socket, subprocess, sys, tempfile, time
import httpx
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

TOPICS = ["accord.elicitation.v1", "accord.ranking.v1", "accord.notifications.v1", "accord.audit.v1"]

async def stable(bootstrap):
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for _ in range(600):
            try:
                [answer] = await admin.describe_consumer_groups(["accord-projector"])
            except KafkaError:  # no coordinator yet
                await asyncio.sleep(0.1)
                continue
            _, _, state, _, _, members, *_ = answer.groups[0]
            if state == "Stable" and members:
                partitions = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(TOPICS)}
                return partitions
            await asyncio.sleep(0.1)
        raise RuntimeError("the projector never joined its group")
    finally:
        await admin.close()

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
log = tempfile.NamedTemporaryFile(suffix=".log", delete=False)
process = subprocess.Popen(
    [sys.executable, "-m", "accord", "serve", "projector", "--port", str(port)],
    stdout=log, stderr=subprocess.STDOUT,
)
try:
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    partitions = asyncio.run(stable(os.environ["ACCORD_KAFKA_BOOTSTRAP"]))
finally:
    process.terminate()
    process.wait(timeout=30)
lines = open(log.name, errors="replace").read().splitlines()
loud = [line for line in lines if " WARNING " in line or " ERROR " in line or "Traceback" in line]
print(json.dumps({"partitions": partitions, "loud": loud, "lines": len(lines)}))
"""


def test_a_process_started_on_a_fresh_broker_finds_its_topics_and_logs_no_error() -> None:
    """`accord infra run` makes Accord's topics (as docker-compose's kafka-init does) and waits
    for the consumer groups' coordinator: `accord serve projector` joins its group without a
    warning (without them, every consumer logged "Topic ... not found in cluster metadata" at
    ERROR and "Marking the coordinator dead" until the broker made them)."""
    _, told = infra_run(1, SERVE)
    assert told["lines"] > 0
    assert told["loud"] == []
    assert told["partitions"] == {
        "accord.elicitation.v1": 3, "accord.ranking.v1": 3, "accord.notifications.v1": 3,
        "accord.audit.v1": 3,
    }  # fmt: skip
