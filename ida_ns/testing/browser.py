"""Drive a real headless Chromium through the DevTools protocol (stdlib only: a minimal
WebSocket client), to test HTML reports as people use them: open the page, wait until its
script is ready, type into the search box, click, read the page, collect console errors and
uncaught exceptions, take a screenshot.

    with Browser() as b:
        b.open("file:///tmp/report.html")
        b.wait_for("document.body.dataset.ready === '1'")
        b.eval("document.querySelectorAll('#problems tr.row').length")
        b.screenshot("report.png")
        assert not b.errors
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from ..errors import IdaNsError


class BrowserError(IdaNsError):
    """Chromium is missing, did not start, or a page operation failed."""


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


class _WebSocket:
    def __init__(self, url: str, timeout: float = 30.0):
        m = re.match(r"ws://([^/:]+):(\d+)(/.*)", url)
        if not m:
            raise BrowserError(f"bad DevTools URL {url!r}")
        host, port, path = m.group(1), int(m.group(2)), m.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise BrowserError("DevTools closed the connection during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise BrowserError(f"DevTools handshake failed: {head[:200]!r}")
        self.buf = head.split(b"\r\n\r\n", 1)[1]

    def send(self, text: str) -> None:
        data = text.encode()
        n = len(data)
        head = bytes([0x81])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(head + mask + body)

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise BrowserError("DevTools connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self) -> str:
        parts = []
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            if b1 & 0x80:
                mask = self._read(4)
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(n)))
            else:
                payload = self._read(n)
            op = b0 & 0x0F
            if op == 8:
                raise BrowserError("DevTools connection closed")
            if op in (9, 10):  # ping/pong: ignore
                continue
            parts.append(payload)
            if b0 & 0x80:
                return b"".join(parts).decode("utf-8", "replace")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Browser:
    """A headless Chromium with one page; console errors and uncaught exceptions of the page
    collect in :attr:`errors`."""

    def __init__(self, chromium: str | None = None, width: int = 1280, height: int = 900,
                 timeout: float = 60.0):
        self.chromium = chromium or find_chromium()
        if not self.chromium:
            raise BrowserError("Chromium not found (Debian: apt-get install -y chromium)")
        self.timeout = timeout
        self.width, self.height = width, height
        self.errors: list[str] = []
        self.console: list[str] = []
        self._id = 0
        self._events: list[dict] = []
        self._profile = tempfile.mkdtemp(prefix="ida-ns-chromium-")
        self._log = open(Path(self._profile).with_suffix(".log"), "w+")
        self.proc = subprocess.Popen(
            [self.chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking",
             f"--user-data-dir={self._profile}", "--remote-debugging-port=0",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=self._log)
        try:
            port = self._port()
            self.ws = _WebSocket(self._page_url(port), timeout)
            for domain in ("Page", "Runtime", "Log"):
                self.call(f"{domain}.enable")
            self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                      deviceScaleFactor=1, mobile=False)
        except BaseException:
            self.close()
            raise

    def _port(self) -> int:
        end = time.monotonic() + self.timeout
        port_file = Path(self._profile) / "DevToolsActivePort"
        while time.monotonic() < end:
            if port_file.exists():
                text = port_file.read_text().split()
                if text:
                    return int(text[0])
            if self.proc.poll() is not None:
                self._log.seek(0)
                raise BrowserError(f"Chromium exited ({self.proc.returncode}): "
                                   f"{self._log.read()[-500:]}")
            time.sleep(0.05)
        raise BrowserError("Chromium did not open its DevTools port in time")

    def _page_url(self, port: int) -> str:
        end = time.monotonic() + self.timeout
        while time.monotonic() < end:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list",
                                            timeout=5) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            except OSError:
                pass
            time.sleep(0.1)
        raise BrowserError("no page target in Chromium")

    # ---- protocol ----------------------------------------------------------------------------
    def _on_event(self, msg: dict) -> None:
        m, p = msg.get("method"), msg.get("params", {})
        if m == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", "")))
                            for a in p.get("args", []))
            self.console.append(f"{p.get('type')}: {text}")
            if p.get("type") in ("error", "assert"):
                self.errors.append(f"console.{p.get('type')}: {text}")
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            desc = d.get("exception", {}).get("description") or d.get("text")
            self.errors.append(f"uncaught: {desc} (line {d.get('lineNumber')})")
        elif m == "Log.entryAdded":
            e = p.get("entry", {})
            if e.get("level") == "error":
                self.errors.append(f"log: {e.get('text')} ({e.get('url', '')})")
        self._events.append(msg)

    def call(self, method: str, **params):
        self._id += 1
        my = self._id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        end = time.monotonic() + self.timeout
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise BrowserError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._on_event(msg)
        raise BrowserError(f"{method}: no answer in {self.timeout}s")

    # ---- page operations -------------------------------------------------------------------
    def open(self, url: str) -> float:
        """Navigate and wait for the load event; returns seconds taken."""
        t0 = time.perf_counter()
        self._events.clear()
        self.call("Page.navigate", url=url)
        end = time.monotonic() + self.timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            if time.monotonic() > end:
                raise BrowserError(f"{url}: no load event in {self.timeout}s")
            self._on_event(json.loads(self.ws.recv()))
        return time.perf_counter() - t0

    def eval(self, expression: str):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise BrowserError(f"page script failed: "
                               f"{d.get('exception', {}).get('description') or d.get('text')}")
        return r.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 10.0) -> float:
        """Poll a JS condition until true; returns seconds waited."""
        t0 = time.perf_counter()
        while not self.eval(f"!!({expression})"):
            if time.perf_counter() - t0 > timeout:
                raise BrowserError(f"timed out waiting for {expression}")
            time.sleep(0.05)
        return time.perf_counter() - t0

    def type_into(self, selector: str, text: str) -> None:
        """Set an input's value as a person typing would, firing ``input`` events."""
        self.eval(f"(function(){{const e=document.querySelector({json.dumps(selector)});"
                  f"e.focus(); e.value={json.dumps(text)};"
                  "e.dispatchEvent(new Event('input',{bubbles:true})); return true;})()")

    def click(self, selector: str) -> None:
        """A real mouse click at the centre of the element (via Input events)."""
        box = self.eval(f"(function(){{const e=document.querySelector({json.dumps(selector)});"
                        "if(!e) return null; e.scrollIntoView({block:'center'});"
                        "const r=e.getBoundingClientRect();"
                        "return [r.left+r.width/2, r.top+Math.min(r.height/2, 10)];})()")
        if box is None:
            raise BrowserError(f"no element {selector!r} to click")
        x, y = box
        for t in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=t, x=x, y=y, button="left",
                      clickCount=1)

    def screenshot(self, path: str | Path, full_page: bool = False) -> Path:
        params = {"format": "png"}
        if full_page:
            size = self.eval("[document.documentElement.scrollWidth, "
                             "Math.min(document.documentElement.scrollHeight, 4000)]")
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", **params)["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self._profile, ignore_errors=True)
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
