"""The summary page in a real browser: headless Chromium over its DevTools pipe renders every chart, logs no error, loads nothing.

Chromium comes from the system (Debian's `chromium`; `.ci/run` installs it); nothing is downloaded.
The test skips when none is found. The screenshots are kept in $DIAGNOSE_TEST_ARTIFACTS (default
test-artifacts/ in the repository) for a person to look at.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1200,900",
)
ARTIFACTS = Path(os.environ.get("DIAGNOSE_TEST_ARTIFACTS") or ROOT / "test-artifacts")


def find_chromium() -> str | None:
    explicit = os.environ.get("DIAGNOSE_CHROMIUM")
    if explicit:
        return explicit
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here: apt-get install chromium (.ci/run does)")


class Browser:
    """Chromium driven over --remote-debugging-pipe (fd 3 in, fd 4 out; JSON messages ending in NUL): no port, no websocket."""

    def __init__(self, exe: str, profile: str) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def fds() -> None:  # in the child: the pipe ends where Chromium expects them
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=fds,
            close_fds=False,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next = 0
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buf = b""
        while True:
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                self.messages.put(json.loads(raw))

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 30) -> Any:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            got = self.messages.get(timeout=max(0.1, deadline - time.monotonic()))
            if got.get("id") == self._next:
                if "error" in got:
                    raise RuntimeError(f"{method}: {got['error']}")
                return got.get("result", {})
            self.events.append(got)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            got = self.messages.get(timeout=max(0.1, deadline - time.monotonic()))
            self.events.append(got)
            if got.get("method") == method:
                return got

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone: the process is stopped below either way
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)


MEASURE = """JSON.stringify([...document.querySelectorAll('svg.chart')].map(s => {
  const r = s.getBoundingClientRect();
  return {chart: s.dataset.chart, width: r.width, height: r.height,
          shapes: s.querySelectorAll('rect.fill, rect.cell, polyline.line').length};
}).concat([{resources: performance.getEntriesByType('resource').length}]))"""


def visit(path: Path, shot: Path | None = None) -> dict[str, Any]:
    """Open a page; its charts' sizes, the console errors, the requests beyond the page itself, and a full-page screenshot."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="diagnose-chromium-") as profile:
        browser = Browser(CHROMIUM, profile)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                browser.send(f"{domain}.enable", session=session)
            url = path.resolve().as_uri()
            browser.send("Page.navigate", {"url": url}, session=session)
            browser.wait_for("Page.loadEventFired")
            measured = json.loads(
                browser.send("Runtime.evaluate", {"expression": MEASURE, "returnByValue": True}, session=session)["result"]["value"]
            )
            png = b""
            if shot is not None:
                size = browser.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
                clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
                png = base64.b64decode(
                    browser.send("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True}, session=session)[
                        "data"
                    ]
                )
                shot.parent.mkdir(parents=True, exist_ok=True)
                shot.write_bytes(png)
            time.sleep(0.2)  # late console messages
            browser.send("Runtime.evaluate", {"expression": "1"}, session=session)
        finally:
            browser.close()
    events = browser.events
    errors = [e["params"] for e in events if e.get("method") == "Runtime.exceptionThrown"]
    errors += [
        e["params"] for e in events if e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") in ("error", "assert")
    ]
    errors += [e["params"]["entry"] for e in events if e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error"]
    requests = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    return {
        "charts": measured[:-1],
        "resources": measured[-1]["resources"],
        "errors": errors,
        "requests": [u for u in requests if u != url],
        "png": png,
    }


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Summary pages (en, zh) of 300 generated accounts over several days, sliced by region for the heat map."""
    import diagnose
    from diagnose.cli import main
    from diagnose.portfolio.generate import Generator, load_templates

    pack = diagnose.load_pack()
    root = tmp_path_factory.mktemp("browser")
    src = root / "in.jsonl"
    src.write_text(
        "".join(x.text + "\n" for x in Generator(pack, load_templates(pack), seed=3).lines(300, corrupt_rate=0.02)), encoding="utf-8"
    )
    pages = {}
    for lang in ("en", "zh"):
        pages[lang] = root / f"summary-{lang}.html"
        args = ["batch", str(src), "-o", str(root / f"r-{lang}.jsonl"), "-e", str(root / f"e-{lang}.jsonl"), "-w", "1", "-q"]
        assert main([*args, "--summary", "-f", "json", "--html", str(pages[lang]), "--lang", lang]) == 0
    return pages


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_charts_render_with_no_error_and_no_request(page: dict[str, Path], lang: str) -> None:
    shot = ARTIFACTS / f"summary-{lang}.png"
    seen = visit(page[lang], shot)
    charts = {c["chart"]: c for c in seen["charts"] if c["chart"] != "bar"}
    assert set(charts) == {"verdicts", "families", "heatmap", "trend"}
    for name, c in charts.items():
        assert c["width"] > 100 and c["height"] > 20 and c["shapes"] > 0, (name, c)
    bars = [c for c in seen["charts"] if c["chart"] == "bar"]
    assert len(bars) > 20 and all(b["width"] > 0 and b["height"] > 0 for b in bars)
    assert seen["errors"] == []
    assert seen["requests"] == [] and seen["resources"] == 0
    width, height = _png_size(seen["png"])
    assert width >= 1000 and height > 2000 and len(seen["png"]) > 50_000


def test_the_checks_see_an_error_and_a_request(tmp_path: Path) -> None:
    """The same checks on a page that logs an error and loads an image: they must catch both."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><html><body><svg class="chart" data-chart="x" width="10" height="10"></svg>'
        '<img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script></body></html>',
        encoding="utf-8",
    )
    seen = visit(bad)
    assert any("boom" in json.dumps(e) for e in seen["errors"])
    assert seen["requests"] == ["http://127.0.0.1:9/x.png"]
    assert seen["charts"] == [{"chart": "x", "width": 10, "height": 10, "shapes": 0}]
