"""Headless Chromium (Debian's package, installed by `make test`) opening a page from a file,
driven over the DevTools protocol on a pipe: the page's DOM once loaded, a screenshot, and
every network request the page made (the browser's own background traffic is not the page's
and is not counted)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

# The flags this machine's Chromium needs (the polyglot machine's notes), headless.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
TIMEOUT_S = 60.0
# Chromium reads DevTools messages on fd 3 and writes them on fd 4, each ended by a NUL.
ON_PIPES = 'exec 3<&"$1" 4>&"$2"; shift 2; exec "$@"'


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("Debian's chromium is missing: `make test` installs it (scripts/chromium.sh)")
    return found


@dataclass
class Opened:
    """What the page showed and did."""

    html: str
    # The URL of every request the page made, its own document's included.
    requests: list[str]


@dataclass
class _DevTools:
    """One Chromium process, spoken to over its DevTools pipe."""

    process: subprocess.Popen[bytes]
    to_browser: int
    from_browser: int
    answers: dict[int, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    last_id: int = 0

    def read(self) -> None:
        buffered = b""
        while chunk := os.read(self.from_browser, 65536):
            buffered += chunk
            *messages, buffered = buffered.split(b"\0")
            with self.changed:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self.answers[message["id"]] = message
                    else:
                        self.events.append(message)
                self.changed.notify_all()

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        asked = self.last_id
        message: dict[str, Any] = {"id": asked, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        with self.changed:
            if not self.changed.wait_for(lambda: asked in self.answers, timeout=TIMEOUT_S):
                pytest.fail(f"Chromium never answered {method}")
            answer = self.answers.pop(asked)
        if "error" in answer:
            pytest.fail(f"Chromium refused {method}: {answer['error']}")
        result: dict[str, Any] = answer["result"]
        return result

    def wait_for(self, method: str, session: str) -> None:
        def fired() -> bool:
            return any(e["method"] == method and e.get("sessionId") == session for e in self.events)

        with self.changed:
            if not self.changed.wait_for(fired, timeout=TIMEOUT_S):
                pytest.fail(f"Chromium never sent {method}")


def open_page(page: Path, *, screenshot: Path | None = None, size: str = "1280,1600") -> Opened:
    """Load the page from its file, as a reader opening it offline would."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        to_read, to_browser = os.pipe()
        from_browser, to_write = os.pipe()
        process = subprocess.Popen(
            ["bash", "-c", ON_PIPES, "bash", str(to_read), str(to_write), chromium(), *FLAGS,
             f"--user-data-dir={profile}", f"--window-size={size}", "--remote-debugging-pipe",
             "about:blank"],
            pass_fds=(to_read, to_write), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_read)
        os.close(to_write)
        browser = _DevTools(process, to_browser, from_browser)
        threading.Thread(target=browser.read, daemon=True).start()
        try:
            return _load(browser, page, screenshot)
        finally:
            _close(browser)


def _load(browser: _DevTools, page: Path, screenshot: Path | None) -> Opened:
    targets = browser.call("Target.getTargets")["targetInfos"]
    tab = next(t["targetId"] for t in targets if t["type"] == "page")
    session = browser.call("Target.attachToTarget", targetId=tab, flatten=True)["sessionId"]
    browser.call("Network.enable", session)
    browser.call("Page.enable", session)
    browser.call("Page.navigate", session, url=page.resolve().as_uri())
    browser.wait_for("Page.loadEventFired", session)
    root = browser.call("DOM.getDocument", session)["root"]["nodeId"]
    html = browser.call("DOM.getOuterHTML", session, nodeId=root)["outerHTML"]
    if screenshot is not None:
        shot = browser.call("Page.captureScreenshot", session, format="png")["data"]
        screenshot.write_bytes(base64.b64decode(shot))
    with browser.changed:
        requests = [
            e["params"]["request"]["url"]
            for e in browser.events
            if e["method"] == "Network.requestWillBeSent" and e.get("sessionId") == session
        ]
    return Opened(html, requests)


def _close(browser: _DevTools) -> None:
    try:
        browser.call("Browser.close")
    except BaseException:
        browser.process.kill()
    try:
        browser.process.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        browser.process.kill()
        browser.process.wait()
    os.close(browser.to_browser)
    os.close(browser.from_browser)


class Dom(HTMLParser):
    """A page's HTML read back: its elements, their attributes, its title and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self.title = ""
        self._inside = ""

    @classmethod
    def of(cls, html: str) -> Dom:
        dom = cls()
        dom.feed(html)
        dom.close()
        return dom

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._inside = tag

    def handle_endtag(self, tag: str) -> None:
        self._inside = ""

    def handle_data(self, data: str) -> None:
        if self._inside == "title":
            self.title += data
        elif self._inside != "style":
            self.chunks.append(data)

    @property
    def text(self) -> str:
        """The body's text as a reader sees it, whitespace folded (style sheets aside)."""
        return " ".join(" ".join(self.chunks).split())

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]
