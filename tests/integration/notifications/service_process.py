"""The notifications service as its own OS process (`python -m accord serve notifications`),
so a test can kill it with SIGKILL, as a crash would, and start it again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx

from tests.integration.http_server import free_port


class ServiceProcess:
    def __init__(self, env: Mapping[str, str], log: Path) -> None:
        self.env = dict(env)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def spawn(self) -> subprocess.Popen[bytes]:
        """Start it on a free port (not yet ready)."""
        port = free_port()
        env = {**os.environ, **self.env, "ACCORD_PORT": str(port), "OTEL_SDK_DISABLED": "true"}
        self.url = f"http://127.0.0.1:{port}"
        with self.log.open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "accord", "serve", "notifications"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> str:
        """Start it; answers its base URL once it is ready."""
        self.process = self.spawn()
        async with httpx.AsyncClient(base_url=self.url) as http, asyncio.timeout(90):
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the service exited: {self.log.read_text()[-3000:]}")
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        return self.url
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no lifespan shutdown, no flush, exactly like a crash."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
