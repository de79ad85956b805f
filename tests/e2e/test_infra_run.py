"""`accord infra run --brokers 2 -- <command>`, as `make test` types it: the command finds two
brokers that each take a message, the first one named as ACCORD_KAFKA_BOOTSTRAP, and both are
gone once the command has exited."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

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


def test_each_of_two_brokers_takes_a_message_and_both_stop_with_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "accord", "infra", "run", "--brokers", "2", "--",
         sys.executable, "-c", COMMAND],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    told = json.loads(done.stdout.strip().splitlines()[-1])
    brokers = told["brokers"]
    assert len(brokers) == 2
    assert told["named"] == brokers[0]["plain"]
    every_listener = [b[name] for b in brokers for name in ("plain", "sasl", "ssl", "sasl_ssl")]
    assert len(set(every_listener)) == 8 and all(every_listener)
    assert done.stderr.count("kafka: stopped") == 2
    assert not any(answers(address) for address in every_listener)
