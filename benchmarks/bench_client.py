"""Web client timings in headless Chromium (software WebGL through SwiftShader).

For each size, uploads a random float32 tensor through the API (`?name=`), projects it
with PCA (3D), opens `/?dataset=ID&projection=PID` and measures:

* first frame: navigation start to the first frame with points drawn, GPU work included
  (the page is told to wait for the GPU once, via `window.__projectorSync`);
* orbit frame: one camera step plus a synchronous redraw as during a drag (above 200,000
  points a fixed random subset of 200,000 is drawn while the camera moves), repeated;
* full frame: the same with every point drawn (what the page draws once the camera settles);
* hover pick: one pick at a random spot of the canvas (screen-grid lookup), repeated;
  plus the time to rebuild the pick index after the camera settles (a Worker above 150k points).

The projection's own computation is excluded: it runs (and is cached) before the page opens.

Usage:
    python -m benchmarks.bench_client                        # 100,000 and 1,000,000 points
    python -m benchmarks.bench_client --sizes 100000 --dim 32 --runs 5
    python -m benchmarks.bench_client --url http://127.0.0.1:6006/   # an already running server

Prints one line per measurement: mean, std and min in milliseconds over the runs,
and writes the same as JSON to benchmarks/results/bench_client.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import time
import urllib.request
from pathlib import Path

import numpy as np

from benchmarks._service import Server

CHROMIUM = os.environ.get("PROJECTOR_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]


def call(url: str, method: str = "GET", body: bytes | None = None, ctype: str = "application/json") -> dict:
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req, timeout=600) as resp:
        return json.loads(resp.read())


def prepare(base: str, n: int, dim: int) -> tuple[str, str, float, float]:
    """Upload and project; returns dataset id, projection id, upload and PCA seconds."""
    X = np.random.default_rng(n).standard_normal((n, dim), dtype=np.float32)
    buf = io.BytesIO()
    np.save(buf, X)
    t0 = time.perf_counter()
    ds = call(f"{base}api/datasets?name=bench-{n}", "POST", buf.getvalue(), "application/x-npy")
    t1 = time.perf_counter()
    p = call(f"{base}api/datasets/{ds['id']}/projections", "POST", json.dumps({"method": "pca", "dims": 3}).encode())
    while p["status"] not in ("done", "failed", "cancelled"):
        time.sleep(0.2)
        p = call(f"{base}api/projections/{p['id']}")
    if p["status"] != "done":
        raise SystemExit(f"PCA failed: {p}")
    return ds["id"], p["id"], t1 - t0, time.perf_counter() - t1


def summary(values: list[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.pstdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "runs": len(values),
    }


def measure(browser, base: str, dataset: str, projection: str, runs: int, orbit_steps: int, picks: int) -> dict:
    first, metadata = [], []
    orbit: list[float] = []
    full: list[float] = []
    pick: list[float] = []
    rebuild: list[float] = []
    for run in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_init_script("window.__projectorSync = true; window.__projectorTesting = true;")  # testing.js: window.__projector
        page = context.new_page()
        page.goto(f"{base}?dataset={dataset}&projection={projection}")
        page.wait_for_function("() => window.__projector && window.__projector.firstFrameAt > 0", timeout=120_000)
        first.append(page.evaluate("() => window.__projector.firstFrameAt"))
        page.wait_for_function("() => window.__projector.metadataMs > 0", timeout=300_000)
        metadata.append(page.evaluate("() => window.__projector.metadataMs"))
        if run == 0:
            page.evaluate("() => window.__projector.orbitSync(1, 0)")  # warm-up
            for _ in range(orbit_steps):
                orbit.append(page.evaluate("() => window.__projector.orbitSync(6, 1)"))
            for _ in range(max(3, orbit_steps // 2)):
                full.append(page.evaluate("() => window.__projector.orbitSync(6, 1, true)"))
            for _ in range(3):
                page.evaluate("() => window.__projector.rebuildPickIndex()")
                page.wait_for_function("() => window.__projector.pickReady", timeout=60_000)
                rebuild.append(page.evaluate("() => window.__projector.lastPickBuildMs"))
                page.evaluate("() => window.__projector.orbitSync(6, 1)")
            page.evaluate("() => window.__projector.rebuildPickIndex()")
            page.wait_for_function("() => window.__projector.pickReady", timeout=60_000)
            box = page.locator("#scatter").bounding_box()
            rng = np.random.default_rng(0)
            xs = box["x"] + rng.uniform(0.2, 0.8, picks) * box["width"]
            ys = box["y"] + rng.uniform(0.2, 0.8, picks) * box["height"]
            timings = page.evaluate(
                """([xs, ys]) => xs.map((x, k) => {
                    const t0 = performance.now();
                    window.__projector.pickAt(x, ys[k]);
                    return performance.now() - t0;
                })""",
                [xs.tolist(), ys.tolist()],
            )
            pick.extend(timings)
        context.close()
    return {
        "first_frame_ms": summary(first),
        "metadata_ready_ms": summary(metadata),
        "orbit_frame_ms": summary(orbit),
        "full_frame_ms": summary(full),
        "hover_pick_ms": summary(pick),
        "pick_index_rebuild_ms": summary(rebuild),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--orbit-steps", type=int, default=10)
    parser.add_argument("--picks", type=int, default=200)
    parser.add_argument("--url", help="use this running server instead of starting one")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    proc = None
    base = args.url
    if not base:
        proc = Server()
        base = proc.url + "/"
    results = {"chromium": CHROMIUM, "dim": args.dim, "runs": args.runs, "cpus": os.cpu_count(), "sizes": {}}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for n in args.sizes:
                dataset, projection, upload_s, pca_s = prepare(base, n, args.dim)
                print(f"n={n:,} dim={args.dim}: upload {upload_s:.2f} s, PCA {pca_s:.2f} s (not counted below)", flush=True)
                r = measure(browser, base, dataset, projection, args.runs, args.orbit_steps, args.picks)
                results["sizes"][str(n)] = r
                for key, s in r.items():
                    print(f"  {key:24s} mean {s['mean']:9.2f}  std {s['std']:8.2f}  min {s['min']:9.2f}  (runs {s['runs']})", flush=True)
            browser.close()
    finally:
        if proc:
            proc.close()
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_client.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
