"""Render an HTML file in headless Chromium and record every network request it makes.

Why: an HTML report is only proven to work offline if a real browser ran its scripts
(so the DOM holds what they drew) while nothing was fetched.  Chromium is pointed at a
local do-nothing proxy, so any http(s) request the page makes (including CONNECT for
https and requests to loopback) lands there and is recorded instead of leaving the
machine.  The proxy never forwards anything.

Reusable by any test that renders an HTML report::

    from browser import render_page, require_chromium
    result = render_page(path)            # skips the test when Chromium is missing
    assert result.requests == []
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 60


@dataclass
class RenderResult:
    """What the browser produced: the DOM after scripts ran, and what it tried to fetch."""

    dom: str
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)  # console messages / JS errors
    returncode: int = 0


def find_chromium() -> str | None:
    """Path of a Chromium-family browser, or None."""
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """The browser path, or skip the calling test with the reason."""
    path = find_chromium()
    if path is None:
        pytest.skip("headless Chromium not found (install it: apt-get install -y chromium)")
    return path


class _RecordingHandler(socketserver.BaseRequestHandler):
    """Record the first line of each connection (e.g. 'GET http://x/ HTTP/1.1'), answer 502."""

    def handle(self) -> None:
        self.request.settimeout(2.0)
        data = b""
        try:
            while b"\n" not in data and len(data) < 8192:
                chunk = self.request.recv(1024)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        line = data.split(b"\r\n", 1)[0].split(b"\n", 1)[0].decode("latin-1").strip()
        self.server.requests.append(line or "<connection without a request line>")  # type: ignore[attr-defined]
        try:
            self.request.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass


class RecordingProxy(socketserver.ThreadingTCPServer):
    """A proxy on 127.0.0.1 (free port) that only records; use as a context manager."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.requests: list[str] = []
        self.accepted = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def process_request(self, request: socket.socket, client_address: object) -> None:
        with self._lock:
            self.accepted += 1
        super().process_request(request, client_address)

    def wait_recorded(self, timeout_s: float = 5.0) -> None:
        """Wait until every accepted connection has been recorded (handlers run in threads)."""
        deadline = time.monotonic() + timeout_s
        while len(self.requests) < self.accepted and time.monotonic() < deadline:
            time.sleep(0.05)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


def _console_lines(stderr: str) -> list[str]:
    """Console messages Chromium logs with --enable-logging=stderr ('CONSOLE(...)' lines)."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def render_page(
    html_path: str | os.PathLike[str], *, budget_ms: int = 5000, timeout_s: float = TIMEOUT_S
) -> RenderResult:
    """Open `html_path` in headless Chromium, let scripts run, return the DOM and requests."""
    browser = require_chromium()
    url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="themesift-chromium-") as profile, RecordingProxy() as proxy:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-domain-reliability",
            "--disable-client-side-phishing-detection",
            "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,"
            "Translate,AutofillServerCommunication",
            # Chromium's own background traffic, which the flags above do not stop:
            # the on-device-model manifest download (update.googleapis.com) and the
            # signin ListAccounts call (accounts.google.com).
            "--optimization-guide-manifest-override=/nonexistent",
            "--gaia-url=http://127.0.0.1:1/",
            "--metrics-recording-only",
            "--disable-dev-shm-usage",
            "--mute-audio",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={profile}",
            f"--proxy-server=http://127.0.0.1:{proxy.port}",
            "--proxy-bypass-list=<-loopback>",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            url,
        ]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True
        )
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # Chromium forks helpers; kill the group
            proc.communicate()
            raise AssertionError(f"Chromium did not finish rendering {url} in {timeout_s:.0f} s") from None
        finally:
            try:  # helpers may outlive the browser process; they share its session
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        proxy.wait_recorded()
        stderr = err.decode("utf-8", "replace")
        if proc.returncode != 0 and not out:
            raise AssertionError(f"Chromium failed ({proc.returncode}): {stderr[-2000:]}")
        return RenderResult(
            dom=out.decode("utf-8", "replace"),
            requests=list(proxy.requests),
            console=_console_lines(stderr),
            returncode=proc.returncode,
        )


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _TextOf(HTMLParser):
    """Collect the visible text (not script/style) inside the element with a given id."""

    def __init__(self, element_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.element_id, self.depth, self.skip, self.parts = element_id, 0, 0, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id:
            self.depth = 1
        if self.depth and tag in ("script", "style"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self.depth:
            return
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and not self.skip:
            self.parts.append(data)


def text_of(dom: str, element_id: str) -> list[str]:
    """Text pieces drawn inside the element `element_id` (e.g. a chart's SVG labels)."""
    parser = _TextOf(element_id)
    parser.feed(dom)
    return [part.strip() for part in parser.parts if part.strip()]
