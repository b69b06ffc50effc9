"""A small client of Chromium's DevTools protocol: open a page headless, record what it did.

Enough for the report tests: console messages and exceptions, every network request the page made,
the value of a JavaScript expression, and a screenshot. Uses Debian's ``chromium`` and the
``websockets`` package; nothing else.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from websockets.sync.client import ClientConnection, connect

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
    "--metrics-recording-only", "--no-default-browser-check", "--hide-scrollbars", "--mute-audio",
]


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@dataclass
class PageVisit:
    console: list[dict] = field(default_factory=list)       # Runtime.consoleAPICalled / Log.entryAdded
    exceptions: list[dict] = field(default_factory=list)    # Runtime.exceptionThrown
    requests: list[str] = field(default_factory=list)       # every URL the page asked for
    failed: list[dict] = field(default_factory=list)        # Network.loadingFailed

    @property
    def errors(self) -> list[str]:
        found = [json.dumps(e, ensure_ascii=False) for e in self.exceptions]
        for entry in self.console:
            level = entry.get("type") or entry.get("level")
            if level in ("error", "assert"):
                found.append(json.dumps(entry, ensure_ascii=False)[:500])
        return found


class Browser:
    def __init__(self, ws: ClientConnection):
        self._ws = ws
        self._ids = itertools.count(1)
        self._events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        message_id = next(self._ids)
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        for i, event in enumerate(self._events):
            if event.get("method") == method:
                return self._events.pop(i)
        while time.monotonic() < deadline:
            event = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if event.get("method") == method:
                return event
            self._events.append(event)
        raise TimeoutError(method)

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        with contextlib.suppress(TimeoutError):
            while time.monotonic() < deadline:
                self._events.append(json.loads(self._ws.recv(timeout=max(0.05, deadline - time.monotonic()))))

    def visit(self, url: str, *, width: int = 1300, height: int = 1000) -> tuple[str, PageVisit]:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        self._events.clear()
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired")
        self.drain(1.0)
        visit = PageVisit()
        for event in self._events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                visit.console.append({"type": params.get("type"),
                                      "args": [a.get("value") for a in params.get("args", [])]})
            elif method == "Log.entryAdded":
                entry = params.get("entry", {})
                visit.console.append({"level": entry.get("level"), "text": entry.get("text"),
                                      "url": entry.get("url")})
            elif method == "Runtime.exceptionThrown":
                visit.exceptions.append(params.get("exceptionDetails", {}))
            elif method == "Network.requestWillBeSent":
                visit.requests.append(params["request"]["url"])
            elif method == "Network.loadingFailed":
                visit.failed.append(params)
        return session, visit

    def evaluate(self, session: str, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def screenshot(self, session: str, path: Path, *, full_page: bool = True) -> Path:
        params: dict = {"format": "png"}
        if full_page:
            size = self.evaluate(session, "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1})
        data = self.send("Page.captureScreenshot", params, session=session)["data"]
        path.write_bytes(base64.b64decode(data))
        return path


@contextlib.contextmanager
def chromium(log_file: Path | None = None) -> Iterator[Browser]:
    binary = chromium_binary()
    if binary is None:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="lowincome-chromium-") as profile:
        stderr_path = Path(profile) / "stderr.log"
        with open(stderr_path, "w") as stderr:
            process = subprocess.Popen(
                [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}/data", "--remote-debugging-address=127.0.0.1",
                 "--remote-debugging-port=0", "about:blank"],
                stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            endpoint = _endpoint(stderr_path, process)
            with connect(endpoint, max_size=None, open_timeout=30) as ws:
                yield Browser(ws)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            if log_file is not None:
                shutil.copyfile(stderr_path, log_file)


def _endpoint(stderr_path: Path, process: subprocess.Popen, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"DevTools listening on (ws://\S+)", stderr_path.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited: {stderr_path.read_text(errors='replace')[-500:]}")
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")
