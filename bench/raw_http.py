"""A lean HTTP/1.1 client for open-loop load: kept-alive loopback connections, requests
written as bytes, answers read by Content-Length.

httpx costs the generator a few milliseconds of CPU per request; on a shared two-core machine
that alone held an open-loop generator to a few dozen commands per second, far below the rate
it was asked to offer. This one does only what a JSON POST to a local server needs, so the
rate a benchmark offers is the rate it sends.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson


class AnswerUnreadable(Exception):
    """The server answered in a form this client does not read (no Content-Length)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> object:
        return orjson.loads(self.body)


class Client:
    """POSTs JSON to one server over at most `connections` kept-alive connections."""

    def __init__(self, base_url: str, connections: int = 256) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.prefix = url.path.rstrip("/")
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(connections)

    async def post(self, path: str, body: object, headers: dict[str, str]) -> Answer:
        payload = orjson.dumps(body)
        sent = {**headers, "content-type": "application/json"}
        return await self.send(self.request("POST", path, sent, payload))

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return await self.send(self.request("GET", path, headers or {}))

    def request(
        self, method: str, path: str, headers: dict[str, str], payload: bytes = b""
    ) -> bytes:
        """A request's bytes: made once, a load generator may send them again and again."""
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return (
            f"{method} {self.prefix}{path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\n{head}"
            f"content-length: {len(payload)}\r\n\r\n"
        ).encode() + payload

    async def send(self, request: bytes) -> Answer:
        async with self.slots:
            while self.idle:
                reader, writer = self.idle.pop()
                if reader.at_eof():  # closed by the server while idle
                    writer.close()
                    continue
                try:
                    return await self.exchange(reader, writer, request)
                except (asyncio.IncompleteReadError, ConnectionResetError) as error:
                    # The server closes a connection idle past its keep-alive timeout; when
                    # that crosses our request, nothing was read of it: send it afresh.
                    if isinstance(error, asyncio.IncompleteReadError) and error.partial:
                        raise
            reader, writer = await asyncio.open_connection(self.host, self.port)
            return await self.exchange(reader, writer, request)

    async def exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> Answer:
        try:
            writer.write(request)
            answer, keep = await read_answer(reader)
        except BaseException:
            writer.close()
            raise
        if keep:
            self.idle.append((reader, writer))
        else:
            writer.close()
        return answer

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


async def read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    """One answer, and whether the connection may be used again."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    fields = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in head[1:] if line)
    }
    if "content-length" not in fields:
        raise AnswerUnreadable(f"{status} without content-length: {fields}")
    body = await reader.readexactly(int(fields["content-length"]))
    return Answer(status, body), fields.get("connection", "").lower() != "close"
