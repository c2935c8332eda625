"""Browser tests of the web client: a real `projector serve` plus headless Chromium.

Chromium is Debian's (/usr/bin/chromium, WebGL through SwiftShader); Playwright never
downloads a browser here. Without Chromium the browser tests skip locally and fail
when the CI environment variable is set.
"""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from projector.serve_process import ServeProcess

CHROMIUM = os.environ.get("PROJECTOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SERVER_START_TIMEOUT = 90


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class Server:
    """A `projector serve --port 0` subprocess and a tiny JSON client for it."""

    def __init__(self, data_dir: Path) -> None:
        self.served = ServeProcess("--no-warm-up", data_dir=data_dir, timeout=SERVER_START_TIMEOUT)
        self.url = self.served.url + "/"

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path.lstrip("/"), data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None

    def get(self, path: str) -> Any:
        return self.api("GET", path)

    def upload(self, array: Any, metadata: Any = None, name: str | None = None) -> dict[str, Any]:
        """Upload a tensor (and metadata) through the Python client; returns the dataset object."""
        from projector import Client

        return self.get(f"api/datasets/{Client(self.url).upload(array, metadata=metadata, name=name)}")

    def demo(self) -> dict[str, Any]:
        return next(d for d in self.get("api/datasets") if d["source"] == "demo")

    def project(self, dataset: str, method: str, dims: int, params: dict[str, Any] | None = None, wait: float = 60) -> dict[str, Any]:
        """Create (or find the cached) projection and wait for it to finish."""
        try:
            p = self.api("POST", f"api/datasets/{dataset}/projections", {"method": method, "dims": dims, "params": params or {}})
        except urllib.error.HTTPError as err:
            raise AssertionError(f"{method}: {err.code} {err.read().decode()}") from err
        deadline = time.monotonic() + wait
        while p["status"] not in ("done", "failed", "cancelled"):
            if time.monotonic() > deadline:
                raise AssertionError(f"projection {p['id']} still {p['status']}")
            time.sleep(0.1)
            p = self.get(f"api/projections/{p['id']}")
        assert p["status"] == "done", p
        return p

    def stop(self) -> None:
        self.served.stop(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("webdata"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    # One Playwright per session (a second sync_playwright inside it fails); `evil.example` resolves to
    # this machine so that test_page_access can serve a DNS-rebinding attacker's page.
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP evil.example 127.0.0.1"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class PageProbe:
    """A page plus everything it logged, and helpers to read the picture."""

    def __init__(self, page: Any, server: Server, artifacts: Path) -> None:
        self.page = page
        self.server = server
        self.artifacts = artifacts
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.failed_requests: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("response", lambda r: r.status >= 400 and self.failed_requests.append(f"{r.status} {r.url}"))

    def open(self, query: str = "", ready: bool = True) -> None:
        """Open the page; without a query, on the demo dataset (other tests upload more)."""
        if not query:
            demo = [d for d in self.server.get("api/datasets") if d["source"] == "demo"]
            query = f"?dataset={demo[0]['id']}" if demo else ""
        self.page.goto(self.server.url + query)
        if ready:
            # The first projection of a fresh server starts a worker: slow on a loaded machine.
            self.wait("__projector.ready && __projector.projectionStatus === 'done'", timeout=90_000)
            self.wait_pick_ready()

    def wait(self, expr: str, timeout: float = 30_000) -> None:
        self.page.wait_for_function(f"() => window.__projector && ({expr})", timeout=timeout)

    def wait_pick_ready(self) -> None:
        self.wait("__projector.pickReady")

    def hook(self, expr: str) -> Any:
        return self.page.evaluate(f"() => window.__projector.{expr}")

    def canvas_png(self, name: str) -> bytes:
        png = self.page.locator("#scatter").screenshot()
        (self.artifacts / f"{name}.png").write_bytes(png)
        return png

    def screenshot(self, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def pixel_stats(self, png: bytes) -> dict[str, int]:
        """Decode a PNG in the page: non-background pixels and distinct colours (quantised)."""
        return self.page.evaluate(
            """async (b64) => {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const bmp = await createImageBitmap(new Blob([bytes], {type: 'image/png'}));
                const c = new OffscreenCanvas(bmp.width, bmp.height);
                const ctx = c.getContext('2d');
                ctx.drawImage(bmp, 0, 0);
                const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
                // Background: the most common colour.
                const freq = new Map();
                for (let i = 0; i < d.length; i += 4 * 7) {
                  const key = d[i] << 16 | d[i+1] << 8 | d[i+2];
                  freq.set(key, (freq.get(key) || 0) + 1);
                }
                const top = [...freq.entries()].sort((a, b) => b[1] - a[1])[0][0];
                const bg = [top >> 16 & 255, top >> 8 & 255, top & 255];
                let other = 0;
                const colours = new Map();
                for (let i = 0; i < d.length; i += 4) {
                  if (Math.abs(d[i] - bg[0]) + Math.abs(d[i+1] - bg[1]) + Math.abs(d[i+2] - bg[2]) < 12) continue;
                  other++;
                  const key = (d[i] >> 4) << 8 | (d[i+1] >> 4) << 4 | (d[i+2] >> 4);
                  colours.set(key, (colours.get(key) || 0) + 1);
                }
                // A colour counts when it covers at least 40 pixels (not edge blends).
                const distinct = [...colours.values()].filter((v) => v >= 40).length;
                return {nonBackground: other, distinct, total: d.length / 4};
            }""",
            base64.b64encode(png).decode(),
        )

    def background(self, png: bytes) -> list[int]:
        """The most common colour of a PNG (the canvas background), as [r, g, b]."""
        return self.page.evaluate(
            """async (b64) => {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const bmp = await createImageBitmap(new Blob([bytes], {type: 'image/png'}));
                const c = new OffscreenCanvas(bmp.width, bmp.height);
                const ctx = c.getContext('2d');
                ctx.drawImage(bmp, 0, 0);
                const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
                const freq = new Map();
                for (let i = 0; i < d.length; i += 4 * 5) {
                  const key = d[i] << 16 | d[i+1] << 8 | d[i+2];
                  freq.set(key, (freq.get(key) || 0) + 1);
                }
                const top = [...freq.entries()].sort((a, b) => b[1] - a[1])[0][0];
                return [top >> 16 & 255, top >> 8 & 255, top & 255];
            }""",
            base64.b64encode(png).decode(),
        )

    def count_colour(self, png: bytes, rgb: list[int], tolerance: int = 40) -> int:
        """Pixels of a PNG within `tolerance` (sum of channel differences) of a colour."""
        return self.page.evaluate(
            """async ([b64, rgb, tol]) => {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const bmp = await createImageBitmap(new Blob([bytes], {type: 'image/png'}));
                const c = new OffscreenCanvas(bmp.width, bmp.height);
                const ctx = c.getContext('2d');
                ctx.drawImage(bmp, 0, 0);
                const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
                let count = 0;
                for (let i = 0; i < d.length; i += 4) {
                  if (Math.abs(d[i] - rgb[0]) + Math.abs(d[i+1] - rgb[1]) + Math.abs(d[i+2] - rgb[2]) < tol) count++;
                }
                return count;
            }""",
            [base64.b64encode(png).decode(), rgb, tolerance],
        )

    def assert_clean_console(self) -> None:
        assert not self.page_errors, self.page_errors
        assert not self.console_errors, (self.console_errors, self.failed_requests)


TESTING_HOOK = "window.__projectorTesting = true;"  # main.js then loads testing.js (window.__projector)


def new_page(browser: Any) -> tuple[Any, Any]:
    """A fresh browser context (no shared storage) whose pages load the test hook."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(TESTING_HOOK)
    return context, context.new_page()


@pytest.fixture()
def probe(browser: Any, server: Server, artifacts: Path) -> Iterator[PageProbe]:
    context, page = new_page(browser)
    yield PageProbe(page, server, artifacts)
    context.close()


# ---- a server over a TensorBoard logdir (training steps of one embedding) ----------------------

LOGDIR_STEPS = 3
LOGDIR_POINTS = 60
LOGDIR_DIMS = 8
LOGDIR_BOOKMARKS = [
    {"label": "first five", "selectedPoints": [0, 1, 2, 3, 4], "selectedColorOptionName": "cluster"},
    {"label": "no selection"},
]


def write_step_logdir(root: Path) -> Path:
    """Three steps of a 60 x 8 embedding drifting a little per step, with two metadata columns
    and a bookmarks file that every step's config entry names."""
    import numpy as np

    from projector.logdir import log_embedding

    rng = np.random.default_rng(7)
    centres = rng.normal(scale=4.0, size=(3, LOGDIR_DIMS))
    cluster = np.arange(LOGDIR_POINTS) % 3
    base = centres[cluster] + rng.normal(size=(LOGDIR_POINTS, LOGDIR_DIMS))
    metadata = {"word": [f"w{i}" for i in range(LOGDIR_POINTS)], "cluster": [f"c{c}" for c in cluster]}
    for step in range(LOGDIR_STEPS):
        drift = 0.15 * step * rng.normal(size=base.shape)
        log_embedding(root, base + drift, metadata=metadata, tag="words", step=step)
    (root / "bookmarks.json").write_text(json.dumps(LOGDIR_BOOKMARKS))
    config = root / "projector_config.pbtxt"
    text = config.read_text()
    config.write_text(text.replace("  tensor_path:", '  bookmarks_path: "bookmarks.json"\n  tensor_path:'))
    return root


class LogdirServer(Server):
    """`projector serve --logdir DIR`, once its first scan has listed every step."""

    def __init__(self, logdir: Path, data_dir: Path) -> None:
        self.served = ServeProcess("--no-warm-up", "--logdir", str(logdir), data_dir=data_dir, timeout=SERVER_START_TIMEOUT)
        self.url = self.served.url + "/"
        deadline = time.monotonic() + 60
        while len(self.logdir_datasets()) < LOGDIR_STEPS:
            if time.monotonic() > deadline:
                raise AssertionError(f"the logdir scan listed {self.get('api/datasets')}; output:\n{self.served.output()}")
            time.sleep(0.2)

    def logdir_datasets(self) -> list[dict[str, Any]]:
        """The logdir's datasets, ordered by step."""
        found = [d for d in self.get("api/datasets") if d["source"] == "logdir"]
        return sorted(found, key=lambda d: (d.get("step") is None, d.get("step") or 0))


@pytest.fixture(scope="session")
def logdir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LogdirServer]:
    logdir = write_step_logdir(tmp_path_factory.mktemp("steps-logdir"))
    srv = LogdirServer(logdir, tmp_path_factory.mktemp("steps-data"))
    yield srv
    srv.stop()


@pytest.fixture()
def logdir_probe(browser: Any, logdir_server: LogdirServer, artifacts: Path) -> Iterator[PageProbe]:
    context, page = new_page(browser)
    yield PageProbe(page, logdir_server, artifacts)
    context.close()
