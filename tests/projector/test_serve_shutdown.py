"""`projector serve` stopped with work in flight: clean exit, no resource-tracker warnings, and a log of the jobs."""

from __future__ import annotations

import time

import numpy as np

from projector import Client
from projector.serve_process import ServeProcess


def test_stop_with_jobs_in_flight_is_clean(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # warm-up on (its process is still compiling when we stop), a finished projection, a cancelled one and a running one
    server = ServeProcess("--no-demo", "--log-level", "info", data_dir=tmp_path / "data")
    try:
        client = Client(server.url)
        dataset = client.upload(np.random.default_rng(0).normal(size=(2000, 16)).astype(np.float32))
        pca = client.project(dataset, "pca")
        cancelled = client.start_projection(dataset, "tsne", n_iter=5000)["id"]
        running = client.start_projection(dataset, "tsne", n_iter=5000, perplexity=20)["id"]
        deadline = time.monotonic() + 120
        while client.projection(cancelled)["iteration"] < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        client.cancel(cancelled)
        while client.projection(running)["status"] != "running" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.stop()
    output = server.output()
    assert "resource_tracker" not in output and "leaked" not in output and "Traceback" not in output, output
    assert f"projection {pca.projection_id} done: pca 2D in " in output
    assert f"projection {cancelled} cancelled: tsne 2D in " in output
    assert f"projection {running} failed: tsne 2D in " in output and "interrupted" in output
